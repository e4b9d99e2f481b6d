"""What makes a served request cost the same at 10,000 and 100,000 patients (issue 14).

- Each web process (surveillance/wsgi.py) and each Celery worker process freezes what start-up
  allocated (core.runtime.process_ready), so a full garbage collection no longer walks
  Django's own objects in the middle of a request or a file.
- "Has this lab reported on this draw?" (the accession match of every report received) is one
  probe of report_draw_lab, whatever the statistics say: with separate draw and lab indexes,
  statistics of a nearly empty table (autovacuum off, or not yet run after a big file) made
  PostgreSQL AND the two, reading every report the lab ever sent.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from celery.signals import worker_process_init
from django.db import connection

from core.db import _any_of_param
from liquidbiopsy.services import _DRAWS_BY_ACCESSION
from tests.builders import draw, report
from tests.factories import UserFactory
from tests.utils import child_env

ROOT = Path(__file__).resolve().parents[1]


def test_a_web_process_freezes_its_start_up_objects():
    probe = "import gc, surveillance.wsgi; print(gc.get_freeze_count())"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(out.strip().splitlines()[-1]) > 50_000  # Django, the URLconf, every view


def test_each_worker_process_freezes_once_its_tasks_are_imported():
    import surveillance.celery as celery_app

    receivers = [r() for _, r in worker_process_init.receivers]
    assert celery_app._process_ready in receivers


@pytest.mark.django_db
def test_the_lab_reported_probe_is_one_index_lookup_with_stale_statistics(patient):
    lab = UserFactory(username="probe_lab", role="lab")
    for i in range(30):
        day = dt.date(2022, 1, 1) + dt.timedelta(days=56 * i)
        report(draw(patient, day, collected=day), lab)
    _, sql, params, where, _, _ = _DRAWS_BY_ACCESSION._compile(connection)
    params = list(params)
    values = [["M-1"], [lab.pk]]
    for i, slot in where.items():
        params[i] = _any_of_param(values[slot], connection)
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # the tiny test tables: use an index
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "report_draw_lab" in plan
    assert "BitmapAnd" not in plan


@pytest.mark.django_db
def test_answers_built_from_fields_made_once_are_what_drf_makes(patient, lab_user):
    """core.drf.OutSerializer: the fields made once per class serialise exactly as DRF's own
    per-instance fields, and no two instances share a field (each is bound to its own parent)."""
    from rest_framework import serializers

    from liquidbiopsy.api import ReportOutSerializer, VariantOutSerializer
    from liquidbiopsy.models import LabReport

    day = dt.date(2026, 3, 2)
    made = report(draw(patient, day, collected=day), lab_user, esr1_vaf="0.0042")
    made = LabReport.objects.select_related("draw").prefetch_related("variants").get(pk=made.pk)

    class PlainVariant(serializers.ModelSerializer):
        vaf = serializers.FloatField()
        vaf_percent = serializers.FloatField()

        class Meta(VariantOutSerializer.Meta):
            pass

    class Plain(serializers.ModelSerializer):
        accession = serializers.CharField(source="draw.accession")
        superseded = serializers.SerializerMethodField()
        tumor_fraction = serializers.FloatField(allow_null=True)
        variants = PlainVariant(many=True)

        class Meta(ReportOutSerializer.Meta):
            pass

        def get_superseded(self, obj) -> bool:
            return not obj.is_current

    first, second = ReportOutSerializer(made), ReportOutSerializer(made)
    assert first.data == second.data == Plain(made).data
    assert first.data["variants"][0]["vaf_percent"] == pytest.approx(0.42)
    assert first.fields["variants"] is not second.fields["variants"]
    assert first.fields["variants"].parent is first
