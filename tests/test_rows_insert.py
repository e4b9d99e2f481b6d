"""core.db.rows_insert writes what the ORM's bulk_create writes; AnyOf filters as __in does."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import timezone

from core.db import AnyOf, JsonText, rows_insert
from tests.factories import PatientFactory
from therapy.models import Alert, AlertEvidence

pytestmark = pytest.mark.django_db

SNAPSHOT = {"collected_on": "2026-11-02", "esr1_calls": [{"hgvs_p": 'p."x"\\', "vaf": "0.0042"}]}


def _values(alert: Alert) -> dict:
    values = model_to_dict(alert)
    values.pop("id")
    return values


def test_rows_insert_matches_bulk_create(oncologist):
    first, second = PatientFactory(oncologist=oncologist), PatientFactory(oncologist=oncologist)
    now = timezone.now()
    shown = {
        "rule_version": "serena6-v2",
        "variants": [["p.Asp538Gly", "0.0042"]],
        "evidence_variants": [["p.Asp538Gly", "0.0042"]],
        "needs_confirmatory_imaging": True,
        "opened_at": now,
        "kind": "switch_recommended",
    }
    expected = Alert.objects.bulk_create([Alert(patient=first, facts_snapshot=SNAPSHOT, **shown)])
    columns = ("patient_id", *shown, "facts_snapshot")
    inserted = rows_insert(
        Alert,
        columns,
        [(second.pk, *shown.values(), JsonText('{"collected_on": "2026-11-02", "esr1_calls": '
                                               '[{"hgvs_p": "p.\\"x\\"\\\\", "vaf": "0.0042"}]}'))],
        returning=("id", "patient_id"),
        now=now,
    )  # fmt: skip
    [(pk, patient_id)] = inserted
    assert patient_id == second.pk
    got = Alert.objects.get(pk=pk)
    want = Alert.objects.get(pk=expected[0].pk)
    assert got.created_at == got.updated_at == now
    assert {**_values(got), "patient": first.pk} == _values(want)
    assert got.facts_snapshot == SNAPSHOT
    # No conflict is written twice; the rows inserted are the ones returned.
    rows_insert(AlertEvidence, ("alert_id", "report_id"), [], ignore_conflicts=True)
    assert Alert.objects.filter(AnyOf(F("patient_id"), [second.pk, 0])).get().pk == pk
    assert list(Alert.objects.filter(AnyOf(F("kind"), []))) == []
    assert Alert.objects.filter(AnyOf(F("kind"), ["switch_recommended", "x"])).count() == 2


def test_rows_insert_types(oncologist):
    patient = PatientFactory(oncologist=oncologist)
    [(pk,)] = rows_insert(
        Alert,
        ("patient_id", "kind", "rule_version", "facts_snapshot", "opened_at", "defer_until",
         "withdrawn_detail", "comment"),
        [(patient.pk, "review", "v", {"vaf": str(Decimal("0.5"))}, timezone.now(),
          dt.date(2026, 1, 2), {"a": [1, None, "é"]}, 'a "quoted", {braced} \\ text')],
        returning=("id",),
    )  # fmt: skip
    alert = Alert.objects.get(pk=pk)
    assert alert.defer_until == dt.date(2026, 1, 2)
    assert alert.withdrawn_detail == {"a": [1, None, "é"]}
    assert alert.comment == 'a "quoted", {braced} \\ text'
    assert (alert.state, alert.episode, alert.revision, alert.flag_detail) == ("open", 1, 0, [])


def test_write_batch_runs_in_one_round_trip_and_returns_the_last_rows(oncologist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.db import write_batch

    patient = PatientFactory(oncologist=oncologist)
    batch = write_batch()
    got = []
    batch.add("SELECT %s AS one", ["it's; 50%"], then=lambda rows: got.extend(rows))
    rows_insert(
        Alert,
        ("patient_id", "kind", "rule_version", "facts_snapshot", "opened_at"),
        [(patient.pk, "review", "v", {"note": "a; b"}, timezone.now())],
        batch=batch,
    )
    assert not Alert.objects.exists()  # nothing runs before the batch
    with CaptureQueriesContext(connection) as ctx:
        batch.run()
    assert len(ctx.captured_queries) == 1
    assert got == [("it's; 50%",)]  # the statement with `then` ran last
    assert Alert.objects.get().facts_snapshot == {"note": "a; b"}


def test_prepared_gives_what_the_orm_gives(oncologist):
    from django.db import transaction

    from core.db import Prepared
    from patients.models import Patient

    patients = [PatientFactory(oncologist=oncologist) for _ in range(3)]
    for p in patients[:2]:
        Alert.objects.create(
            patient=p, kind="review", rule_version="v", facts_snapshot=SNAPSHOT,
            opened_at=timezone.now(), defer_until=dt.date(2026, 1, 2),
        )  # fmt: skip
    columns = [f.attname for f in Alert._meta.concrete_fields]

    def build(ids):
        return (
            Alert.objects.filter(AnyOf(F("patient_id"), ids)).order_by("pk").values_list(*columns)
        )

    query = Prepared(build)
    for ids in ([patients[0].pk], [p.pk for p in patients], [], [0]):
        assert query.rows(ids) == list(build(ids))
    locked = Prepared(
        lambda ids: (
            Patient.objects.select_for_update(of=("self",))
            .filter(AnyOf(F("pk"), ids))
            .values_list("pk", "oncologist__email")
        )
    )
    with transaction.atomic():
        assert locked.rows([patients[1].pk]) == [(patients[1].pk, oncologist.email)]
