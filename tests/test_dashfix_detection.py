"""An ESR1 detection on the dashboard is what the switch rule counts (therapy.rules): a
current, tested (final/amended/corrected, QC pass) report with an allow-listed ESR1 call that
passed FILTER, at or above the floor. A filtered call, an ESR1 change off the allow-list or a
call below the floor is shown on the report and never counted as a detection."""

import csv
import datetime as dt
import importlib
import io
from decimal import Decimal

import pytest
from django.db import connection

from clinic.cohort import cohort_rebuild, cohort_refresh
from clinic.metrics import Filters, cohort_metrics, cohort_metrics_from_scratch
from clinic.models import CohortPatient
from liquidbiopsy.models import VariantCall
from tests.builders import draw, report
from tests.factories import PatientFactory, UserFactory
from therapy.config import rule_config

pytestmark = pytest.mark.django_db
D = dt.date
YEAR = Filters(date_from=D(2026, 1, 1), date_to=D(2026, 12, 31))


@pytest.fixture(autouse=True)
def _fresh_rule_config():
    rule_config.cache_clear()
    yield
    rule_config.cache_clear()


def _call(r, hgvs_p="p.Asp538Gly", vaf="0.02", flt=""):
    return VariantCall.objects.create(
        report=r, gene="ESR1", hgvs_p=hgvs_p, vaf=Decimal(vaf), filter=flt
    )


def _detection(m) -> dict:
    return dict(zip(m.detection["kind"], m.detection["patients"], strict=True))


@pytest.fixture
def lab():
    return UserFactory(username="dx_lab", role="lab")


@pytest.fixture
def world(oncologist, lab):
    """`counted`: D538G on her second report (emergent). `filtered`: her second report's only
    ESR1 call is FILTERED. `off_list`: an ESR1 change not on the allow-list. `passed`: FILTER
    PASS. `dot`: FILTER '.' (passes)."""
    out = {}
    for name, hgvs_p, flt in [
        ("counted", "p.Asp538Gly", ""),
        ("filtered", "p.Asp538Gly", "strand_bias"),
        ("off_list", "p.Glu380Lys", ""),
        ("passed", "p.Tyr537Ser", "PASS"),
        ("dot", "p.Tyr537Ser", "."),
    ]:
        p = PatientFactory(oncologist=oncologist)
        report(draw(p, D(2026, 1, 10), D(2026, 1, 10)), lab)  # first tested: no ESR1
        _call(report(draw(p, D(2026, 3, 10), D(2026, 3, 10)), lab), hgvs_p=hgvs_p, flt=flt)
        out[name] = p
    cohort_refresh([p.pk for p in out.values()])
    return out


def test_a_filtered_or_off_list_esr1_call_is_no_detection(world):
    fast, slow = cohort_metrics(YEAR), cohort_metrics_from_scratch(YEAR)
    assert _detection(fast) == {"first draw": 0, "emergent": 3}
    assert _detection(slow) == _detection(fast)
    assert set(CohortPatient.objects.values_list("patient_id", flat=True)) == {
        world["counted"].pk,
        world["passed"].pk,
        world["dot"].pk,
    }


def test_a_call_below_the_floor_is_no_detection(oncologist, lab, settings):
    settings.ESR1_VAF_FLOOR = 0.01
    rule_config.cache_clear()
    low, high = PatientFactory(oncologist=oncologist), PatientFactory(oncologist=oncologist)
    _call(report(draw(low, D(2026, 3, 10), D(2026, 3, 10)), lab), vaf="0.005")
    _call(report(draw(high, D(2026, 3, 10), D(2026, 3, 10)), lab), vaf="0.01")
    cohort_refresh([low.pk, high.pk])
    assert _detection(cohort_metrics(YEAR)) == {"first draw": 1, "emergent": 0}
    assert _detection(cohort_metrics_from_scratch(YEAR)) == {"first draw": 1, "emergent": 0}
    assert list(CohortPatient.objects.values_list("patient_id", flat=True)) == [high.pk]


def test_a_qc_failed_report_with_esr1_is_no_detection(oncologist, lab):
    p = PatientFactory(oncologist=oncologist)
    _call(report(draw(p, D(2026, 3, 10), D(2026, 3, 10)), lab, qc="fail"))
    cohort_refresh([p.pk])
    assert _detection(cohort_metrics(YEAR)) == {"first draw": 0, "emergent": 0}
    assert not CohortPatient.objects.exists()


def test_a_second_passing_call_makes_the_filtered_report_count(world):
    """A report counts when any one of its ESR1 calls passes (the filtered one is ignored)."""
    r = world["filtered"].reports.get(collected_on=D(2026, 3, 10))
    _call(r, hgvs_p="p.Tyr537Ser", flt="")
    cohort_refresh([world["filtered"].pk])
    assert _detection(cohort_metrics(YEAR)) == {"first draw": 0, "emergent": 4}
    assert _detection(cohort_metrics_from_scratch(YEAR)) == {"first draw": 0, "emergent": 4}


def test_the_rebuild_counts_what_the_refresh_counts(world):
    kept = sorted(CohortPatient.objects.values_list("patient_id", "first_esr1_on"))
    cohort_rebuild()
    assert sorted(CohortPatient.objects.values_list("patient_id", "first_esr1_on")) == kept


def test_the_migration_recomputes_rows_stored_under_the_old_definition(world, oncologist):
    """Rows written when any ESR1 call counted (a filtered one, an off-list one) are
    recomputed by migration 0004."""
    CohortPatient.objects.update_or_create(
        patient=world["filtered"],
        defaults={
            "oncologist_id": oncologist.pk,
            "first_tested_on": D(2026, 1, 10),
            "first_esr1_on": D(2026, 3, 10),
        },
    )
    CohortPatient.objects.update_or_create(
        patient=world["off_list"],
        defaults={
            "oncologist_id": oncologist.pk,
            "first_tested_on": D(2026, 1, 10),
            "first_esr1_on": D(2026, 3, 10),
        },
    )
    assert _detection(cohort_metrics(YEAR))["emergent"] == 5
    migration = importlib.import_module("clinic.migrations.0004_cohort_detection_as_the_rule")
    migration.recompute(None, connection.schema_editor())
    assert _detection(cohort_metrics(YEAR))["emergent"] == 3


def test_the_patients_export_counts_detections_only(client, oncologist, world):
    client.force_login(oncologist)
    body = client.get("/dashboard/export/patients.csv").content.decode()
    rows = {int(r["patient_id"]): r["esr1_reports"] for r in csv.DictReader(io.StringIO(body))}
    assert rows[world["counted"].pk] == "1"
    assert rows[world["filtered"].pk] == "0"
    assert rows[world["off_list"].pk] == "0"


def test_the_refresh_is_one_round_trip_unless_a_candidate_does_not_count(oncologist, lab):
    from django.test.utils import CaptureQueriesContext

    counted, filtered = PatientFactory(oncologist=oncologist), PatientFactory(oncologist=oncologist)
    _call(report(draw(counted, D(2026, 3, 10), D(2026, 3, 10)), lab))
    _call(report(draw(filtered, D(2026, 3, 10), D(2026, 3, 10)), lab), flt="strand_bias")
    with CaptureQueriesContext(connection) as one:
        cohort_refresh([counted.pk])
    with CaptureQueriesContext(connection) as two:
        cohort_refresh([counted.pk, filtered.pk])
    assert (len(one.captured_queries), len(two.captured_queries)) == (1, 2)
    assert list(CohortPatient.objects.values_list("patient_id", flat=True)) == [counted.pk]
