# The composite index first, then the two single-column indexes it makes redundant.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("liquidbiopsy", "0005_upload_notes"),
        ("patients", "0005_draw_patient_anchors"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="labreport",
            index=models.Index(fields=["draw", "lab_account"], name="report_draw_lab"),
        ),
        migrations.AlterField(
            model_name="labreport",
            name="draw",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reports",
                to="patients.draw",
            ),
        ),
        migrations.AlterField(
            model_name="labreport",
            name="lab_account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
