from django.db import migrations


def add_default_rules(apps, schema_editor):
    from koers.scoring.defaults import default_rules

    Rule = apps.get_model("scoring", "EngagementRule")
    if not Rule.objects.exists():
        Rule.objects.bulk_create([Rule(**fields) for fields in default_rules()])


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(add_default_rules, migrations.RunPython.noop)]
