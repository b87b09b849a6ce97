from django.db import migrations

# Sales and customer success see their team's records; managers, marketing and admins see
# all (marketing works across the whole database); read-only users see their team's.
DEFAULTS = {
    "admin": "all",
    "manager": "all",
    "marketing": "all",
    "sales": "team",
    "success": "team",
    "read_only": "team",
}


def add_defaults(apps, schema_editor):
    RoleVisibility = apps.get_model("core", "RoleVisibility")
    for role, scope in DEFAULTS.items():
        RoleVisibility.objects.get_or_create(role=role, defaults={"scope": scope})


def remove_defaults(apps, schema_editor):
    apps.get_model("core", "RoleVisibility").objects.filter(role__in=DEFAULTS).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
