"""The cohort dashboard's precomputed figures (clinic/cohort.py keeps them right).

- CohortDay: per oncologist and day a draw's window closes, the closed draws that count for
  adherence: `due` (collected, resulted, failed or missed) and `in_window` (of those, collected
  inside the window). Open draws whose window has closed count as due too; the dashboard
  reads those few live (their count changes as days pass, and the planner's inserts of
  future draws then cost the triggers nothing).
- CohortState: patients per oncologist and surveillance state.
- CohortPatient: per patient with an ESR1 call, the dates the detection and lead-time figures
  use: first tested report, first ESR1 call, first progression scan on or after it (and her
  oncologist, for the filter).

CohortDay and CohortState are sums over rows of patients_draw and patients_patient; database
triggers (migration 0001) add each statement's change to them, whatever service or planner
makes it. CohortPatient is recomputed for the affected patients by `cohort_refresh`, which the
clinic workflows call in the transaction that stores a report or a scan.
"""

from django.db import models


class CohortDay(models.Model):
    oncologist_id = models.BigIntegerField()
    day = models.DateField()
    due = models.IntegerField(default=0)
    in_window = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["oncologist_id", "day"], name="cohortday_onc_day")
        ]
        indexes = [models.Index(fields=["day"], include=["due", "in_window"], name="cohortday_day")]

    def __str__(self) -> str:
        return f"{self.day} oncologist {self.oncologist_id}: {self.due} due"


class CohortState(models.Model):
    oncologist_id = models.BigIntegerField()
    state = models.CharField(max_length=32)
    patients = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["oncologist_id", "state"], name="cohortstate_onc_state")
        ]

    def __str__(self) -> str:
        return f"{self.state} oncologist {self.oncologist_id}: {self.patients}"


class CohortPatient(models.Model):
    patient = models.OneToOneField(
        "patients.Patient", models.CASCADE, primary_key=True, related_name="+"
    )
    oncologist_id = models.BigIntegerField()  # the patient's; the patient trigger moves it
    first_tested_on = models.DateField()
    first_esr1_on = models.DateField()
    progression_on = models.DateField(null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["first_esr1_on"],
                include=["first_tested_on", "progression_on"],
                name="cohortpatient_esr1",
            ),
            models.Index(
                fields=["oncologist_id", "first_esr1_on"],
                include=["first_tested_on", "progression_on"],
                name="cohortpatient_onc_esr1",
            ),
        ]

    def __str__(self) -> str:
        return f"patient {self.patient_id}: first ESR1 {self.first_esr1_on}"


class CohortAlert(models.Model):
    """A copy of each alert's dashboard fields with the patient's oncologist beside them, so
    the oncologist filter reads one index instead of looking up every alert's patient.
    Kept by triggers on therapy_alert (and the patient trigger, when she changes hands)."""

    alert_id = models.BigIntegerField(primary_key=True)
    patient_id = models.BigIntegerField()
    oncologist_id = models.BigIntegerField()
    opened_at = models.DateTimeField()
    # Text, not varchar: a code therapy makes longer never fails the alert's own write.
    kind = models.TextField()
    state = models.TextField()
    decision = models.TextField()
    reason_code = models.TextField()
    escalation_level = models.PositiveSmallIntegerField()
    decided_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["opened_at"], name="cohortalert_opened"),
            models.Index(fields=["oncologist_id", "opened_at"], name="cohortalert_onc_opened"),
            models.Index(fields=["patient_id"], name="cohortalert_patient"),
        ]

    def __str__(self) -> str:
        return f"alert {self.alert_id} ({self.kind}, {self.state})"
