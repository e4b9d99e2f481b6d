"""Django admin reads of patient records are audited (issue 12 item 5)."""

import pytest

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import PatientFactory, RegimenFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory(username="admin_ada", role=Role.ADMIN)
    client.force_login(admin)
    client.admin = admin
    return client


def test_admin_change_page_of_a_patient_is_audited(admin_client, oncologist):
    patient = PatientFactory(oncologist=oncologist)
    assert admin_client.get(f"/admin/patients/patient/{patient.pk}/change/").status_code == 200
    event = AuditEvent.objects.get(action="patient.admin_view")
    assert (event.actor, event.channel, event.patient_id) == (
        admin_client.admin,
        "admin",
        patient.pk,
    )
    assert (event.object_type, event.object_id) == ("patients.patient", str(patient.pk))


def test_admin_list_records_each_patient_shown(admin_client, oncologist):
    patients = [PatientFactory(oncologist=oncologist) for _ in range(3)]
    assert admin_client.get("/admin/patients/patient/").status_code == 200
    shown = AuditEvent.objects.filter(action="patient.admin_list")
    assert sorted(shown.values_list("patient_id", flat=True)) == sorted(p.pk for p in patients)
    assert set(shown.values_list("channel", flat=True)) == {"admin"}


def test_admin_reads_of_a_regimen_name_its_patient(admin_client, oncologist):
    regimen = RegimenFactory(patient=PatientFactory(oncologist=oncologist))
    assert admin_client.get(f"/admin/patients/regimen/{regimen.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/patients/regimen/{regimen.pk}/history/").status_code == 200
    actions = dict(
        AuditEvent.objects.filter(object_type="patients.regimen").values_list(
            "action", "patient_id"
        )
    )
    assert actions == {
        "regimen.admin_view": regimen.patient_id,
        "regimen.admin_history": regimen.patient_id,
    }


def test_a_refused_admin_read_records_nothing(client, oncologist):
    patient = PatientFactory(oncologist=oncologist)
    client.force_login(UserFactory(role=Role.NURSE))
    assert client.get(f"/admin/patients/patient/{patient.pk}/change/").status_code == 302
    assert not AuditEvent.objects.filter(action__startswith="patient.admin").exists()
