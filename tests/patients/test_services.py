"""Patient, regimen and scan services on PostgreSQL: validation, state, constraints, audit."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.roles import Role
from audit.models import AuditEvent
from patients import services
from patients.models import ImagingAssessment, Patient, Regimen, SurveillanceState
from tests.factories import PatientFactory, RegimenFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


def _counts():
    return (
        Patient.objects.count(),
        Regimen.objects.count(),
        ImagingAssessment.objects.count(),
        AuditEvent.objects.count(),
    )


def _create(oncologist, **overrides):
    data = {
        "mrn": "MRN-1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": dt.date(1961, 4, 2),
        "oncologist": oncologist,
    }
    data.update(overrides)
    return services.patient_create(**data, acting_user=oncologist)


def test_new_patient_awaits_first_regimen_and_is_audited(oncologist):
    patient = _create(oncologist)
    assert patient.surveillance_state == SurveillanceState.AWAITING_MINIMUM_DURATION
    assert patient.surveillance_start_on is None
    assert patient.surveillance_interval_weeks == 8
    event = AuditEvent.objects.get(action="patient.create")
    assert (event.actor, event.patient_id, event.object_id) == (
        oncologist,
        patient.pk,
        str(patient.pk),
    )
    assert "Lovelace" not in str(event.detail)  # no PHI in the audit text


def test_explicit_past_start_date_makes_patient_active(oncologist):
    patient = _create(oncologist, surveillance_start_on=dt.date(2026, 5, 1))
    assert patient.surveillance_state == SurveillanceState.ACTIVE
    assert patient.surveillance_start_explicit is True


def test_every_bad_field_is_named_and_nothing_is_written(oncologist, nurse):
    PatientFactory(mrn="MRN-TAKEN", oncologist=oncologist)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.patient_create(
            mrn="MRN-TAKEN",
            given_name=" ",
            family_name="",
            date_of_birth=TODAY + dt.timedelta(days=1),
            oncologist=nurse,  # not an oncologist
            surveillance_interval_weeks=13,
            acting_user=nurse,
        )
    errors = exc.value.message_dict
    assert errors["mrn"] == [services.MRN_TAKEN]
    assert errors["given_name"] == [services.NAME_BLANK]
    assert errors["family_name"] == [services.NAME_BLANK]
    assert errors["date_of_birth"] == [services.DOB_FUTURE]
    assert errors["oncologist"] == [services.NOT_ONCOLOGIST.format(username=nurse.username)]
    assert errors["surveillance_interval_weeks"] == [services.INTERVAL_RANGE]
    assert _counts() == before


def test_first_regimen_sets_default_start_six_months_later(oncologist):
    patient = _create(oncologist)
    services.regimen_start(
        patient=patient,
        endocrine_agent="letrozole",
        cdk46_inhibitor="palbociclib",
        started_on=dt.date(2026, 3, 10),
        acting_user=oncologist,
    )
    patient.refresh_from_db()
    assert patient.surveillance_start_on == dt.date(2026, 9, 10)
    assert patient.surveillance_state == SurveillanceState.ACTIVE


def test_recent_first_regimen_leaves_patient_awaiting(oncologist):
    patient = _create(oncologist)
    services.regimen_start(
        patient=patient,
        endocrine_agent="anastrozole",
        cdk46_inhibitor="abemaciclib",
        started_on=dt.date(2026, 10, 1),
        acting_user=oncologist,
    )
    patient.refresh_from_db()
    assert patient.surveillance_start_on == dt.date(2027, 4, 1)
    assert patient.surveillance_state == SurveillanceState.AWAITING_MINIMUM_DURATION


def test_explicit_start_date_is_kept_when_regimen_recorded(oncologist):
    patient = _create(oncologist, surveillance_start_on=dt.date(2026, 11, 1))
    services.regimen_start(
        patient=patient,
        endocrine_agent="letrozole",
        cdk46_inhibitor="ribociclib",
        started_on=dt.date(2026, 8, 1),
        acting_user=oncologist,
    )
    patient.refresh_from_db()
    assert patient.surveillance_start_on == dt.date(2026, 11, 1)


def test_new_regimen_ends_the_current_one(oncologist):
    patient = _create(oncologist)
    first = services.regimen_start(
        patient=patient,
        endocrine_agent="letrozole",
        cdk46_inhibitor="palbociclib",
        started_on=dt.date(2025, 1, 10),
        acting_user=oncologist,
    )
    second = services.regimen_start(
        patient=patient,
        endocrine_agent="fulvestrant",
        cdk46_inhibitor="",
        started_on=dt.date(2026, 2, 1),
        previous_end_reason=Regimen.EndReason.TOXICITY,
        acting_user=oncologist,
    )
    first.refresh_from_db()
    assert (first.ended_on, first.end_reason) == (dt.date(2026, 2, 1), "toxicity")
    assert second.ended_on is None
    assert list(Regimen.objects.filter(patient=patient, ended_on__isnull=True)) == [second]
    # The default start date follows the first regimen only.
    patient.refresh_from_db()
    assert patient.surveillance_start_on == dt.date(2025, 7, 10)


def test_bad_regimen_names_each_field_and_changes_nothing(oncologist):
    patient = _create(oncologist)
    RegimenFactory(patient=patient, started_on=dt.date(2026, 6, 1))
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.regimen_start(
            patient=patient,
            endocrine_agent="letrozole",
            cdk46_inhibitor="",
            lhrh_agonist="nonsense",
            started_on=dt.date(2026, 5, 1),
            acting_user=oncologist,
        )
    errors = exc.value.message_dict
    assert set(errors) == {"cdk46_inhibitor", "lhrh_agonist", "started_on"}
    assert "2026-06-01" in errors["started_on"][0]
    assert _counts() == before


def test_regimen_in_the_future_is_refused(oncologist):
    patient = _create(oncologist)
    with pytest.raises(ValidationError) as exc:
        services.regimen_start(
            patient=patient,
            endocrine_agent="letrozole",
            cdk46_inhibitor="palbociclib",
            started_on=TODAY + dt.timedelta(days=1),
            acting_user=oncologist,
        )
    assert exc.value.message_dict == {"started_on": [services.DATE_FUTURE]}


def test_progression_on_current_regimen_ends_surveillance(oncologist):
    patient = PatientFactory(oncologist=oncologist)
    regimen = RegimenFactory(patient=patient, started_on=dt.date(2025, 7, 1))
    scan = services.scan_record(
        patient=patient,
        performed_on=dt.date(2026, 11, 1),
        modality="ct",
        outcome="progression",
        acting_user=oncologist,
    )
    patient.refresh_from_db()
    assert scan.regimen == regimen
    assert patient.surveillance_state == SurveillanceState.PROGRESSED
    assert AuditEvent.objects.filter(action="patient.progressed", patient_id=patient.pk).exists()


def test_progression_on_a_previous_line_does_not_end_surveillance(oncologist):
    """The earlier regimen ended for progression: the current one is a new line."""
    patient = PatientFactory(oncologist=oncologist)
    RegimenFactory(
        patient=patient,
        started_on=dt.date(2024, 1, 1),
        ended_on=dt.date(2025, 1, 1),
        end_reason="progression",
    )
    RegimenFactory(patient=patient, started_on=dt.date(2025, 1, 1))
    services.scan_record(
        patient=patient,
        performed_on=dt.date(2024, 12, 1),
        modality="ct",
        outcome="progression",
        acting_user=oncologist,
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == SurveillanceState.ACTIVE


def test_bad_scan_names_each_field_and_changes_nothing(oncologist):
    patient = PatientFactory(oncologist=oncologist)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.scan_record(
            patient=patient,
            performed_on=TODAY + dt.timedelta(days=3),
            modality="xray",
            outcome="better",
            acting_user=oncologist,
        )
    assert set(exc.value.message_dict) == {"performed_on", "modality", "outcome"}
    assert _counts() == before


def test_update_withdraws_and_resumes(oncologist, other_oncologist):
    patient = PatientFactory(oncologist=oncologist, surveillance_start_on=dt.date(2026, 1, 5))
    services.patient_update(
        patient=patient,
        acting_user=oncologist,
        changes={"surveillance_state": "withdrawn", "oncologist": other_oncologist},
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == SurveillanceState.WITHDRAWN
    assert patient.oncologist == other_oncologist
    services.patient_update(
        patient=patient, acting_user=oncologist, changes={"surveillance_state": "active"}
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == SurveillanceState.ACTIVE
    event = AuditEvent.objects.filter(action="patient.update").first()
    assert event.detail == {"fields": ["surveillance_state"]}


def test_update_refuses_derived_states_and_bad_interval(oncologist):
    patient = PatientFactory(oncologist=oncologist)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.patient_update(
            patient=patient,
            acting_user=oncologist,
            changes={"surveillance_state": "post_switch", "surveillance_interval_weeks": 3},
        )
    assert set(exc.value.message_dict) == {"surveillance_state", "surveillance_interval_weeks"}
    assert _counts() == before


def test_deceased_is_final(oncologist):
    patient = PatientFactory(oncologist=oncologist, surveillance_state="deceased")
    with pytest.raises(ValidationError) as exc:
        services.patient_update(
            patient=patient, acting_user=oncologist, changes={"surveillance_state": "active"}
        )
    assert exc.value.message_dict == {"surveillance_state": [services.STATE_FINAL]}


def test_moving_start_date_later_returns_patient_to_awaiting(oncologist):
    patient = PatientFactory(oncologist=oncologist, surveillance_start_on=dt.date(2026, 1, 5))
    services.patient_update(
        patient=patient,
        acting_user=oncologist,
        changes={"surveillance_start_on": dt.date(2027, 1, 4)},
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == SurveillanceState.AWAITING_MINIMUM_DURATION
    assert patient.surveillance_start_explicit


# --- Database constraints hold even when services are bypassed ------------------------------


def test_database_refuses_two_current_regimens():
    patient = PatientFactory()
    RegimenFactory(patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        RegimenFactory(patient=patient)


def test_database_refuses_end_before_start():
    with pytest.raises(IntegrityError), transaction.atomic():
        RegimenFactory(
            started_on=dt.date(2026, 5, 1), ended_on=dt.date(2026, 4, 1), end_reason="other"
        )


def test_database_refuses_duplicate_mrn_and_interval_out_of_range():
    PatientFactory(mrn="MRN-DUP")
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(mrn="MRN-DUP")
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(surveillance_interval_weeks=2)


def test_oncologist_role_is_required_for_responsibility():
    lab = UserFactory(username="labby", role=Role.LAB)
    with pytest.raises(ValidationError) as exc:
        _create(lab)
    assert "oncologist" in exc.value.message_dict


def test_progression_within_the_current_line_ends_surveillance(oncologist):
    """Letrozole + palbociclib, the AI changed for toxicity: one line (DESIGN §5). A
    progression scan dated on the first regimen is progression of the current line."""
    patient = PatientFactory(oncologist=oncologist)
    RegimenFactory(
        patient=patient,
        started_on=dt.date(2024, 1, 1),
        ended_on=dt.date(2025, 1, 1),
        end_reason="toxicity",
    )
    RegimenFactory(patient=patient, endocrine_agent="anastrozole", started_on=dt.date(2025, 1, 1))
    services.scan_record(
        patient=patient,
        performed_on=dt.date(2024, 12, 1),
        modality="ct",
        outcome="progression",
        acting_user=oncologist,
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == SurveillanceState.PROGRESSED


def test_a_regimen_ended_for_progression_makes_the_patient_progressed(oncologist):
    patient = PatientFactory(oncologist=oncologist)
    RegimenFactory(patient=patient, started_on=dt.date(2025, 1, 1))
    services.regimen_start(
        patient=patient,
        endocrine_agent="fulvestrant",
        cdk46_inhibitor="",
        started_on=dt.date(2026, 11, 1),
        previous_end_reason="progression",
        acting_user=oncologist,
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == SurveillanceState.PROGRESSED
    assert not patient.draws.filter(state="scheduled").exists()  # drawing stops
