from django.db import migrations


def fill_city_key(apps, schema_editor):
    Company = apps.get_model("crm", "Company")
    batch = []
    for company in Company.objects.only("id", "city").iterator(chunk_size=2000):
        # The same folding as koers.crm.models.fold_city, frozen here.
        company.city_key = " ".join(company.city.split()).casefold()
        batch.append(company)
        if len(batch) == 2000:
            Company.objects.bulk_update(batch, ["city_key"])
            batch = []
    Company.objects.bulk_update(batch, ["city_key"])


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_company_city_key")]

    operations = [migrations.RunPython(fill_city_key, migrations.RunPython.noop)]
