"""Create one group per role, so a fresh database has the roles before any user."""

from django.db import migrations

ROLES = ("nurse", "oncologist", "lab", "admin")


def forward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
