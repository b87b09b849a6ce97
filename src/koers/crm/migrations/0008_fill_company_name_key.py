from django.db import migrations

from koers.crm.normalise import company_name_key


def fill_name_key(apps, schema_editor):
    Company = apps.get_model("crm", "Company")
    batch = []
    for company in Company.objects.only("id", "name").iterator(chunk_size=2000):
        company.name_key = company_name_key(company.name)
        batch.append(company)
        if len(batch) == 2000:
            Company.objects.bulk_update(batch, ["name_key"])
            batch = []
    Company.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [("crm", "0007_company_contact_add_external_id_name_key_suppression")]

    operations = [migrations.RunPython(fill_name_key, migrations.RunPython.noop)]
