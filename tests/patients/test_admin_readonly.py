"""Clinical records are read-only in Django admin (issue 10): a state, regimen or scan changed
there would bypass the alert reconcile and the planner."""

import pytest

from tests.factories import PatientFactory, RegimenFactory, ScanFactory

pytestmark = pytest.mark.django_db


def test_admin_can_read_but_not_change_clinical_records(admin_client, oncologist):
    patient = PatientFactory(oncologist=oncologist)
    regimen = RegimenFactory(patient=patient)
    scan = ScanFactory(patient=patient)
    for model, obj in (("patient", patient), ("regimen", regimen), ("imagingassessment", scan)):
        page = admin_client.get(f"/admin/patients/{model}/{obj.pk}/change/")
        assert page.status_code == 200
        assert f'href="/patients/{patient.pk}/"' in page.content.decode()  # where to change it
        assert admin_client.get(f"/admin/patients/{model}/add/").status_code == 403
        assert admin_client.post(f"/admin/patients/{model}/{obj.pk}/delete/").status_code == 403
    before = patient.surveillance_state
    admin_client.post(
        f"/admin/patients/patient/{patient.pk}/change/", {"surveillance_state": "deceased"}
    )
    patient.refresh_from_db()
    assert patient.surveillance_state == before
