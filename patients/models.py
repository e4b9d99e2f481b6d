from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from surveillance.db import TimeStampedModel

INTERVAL_MIN_WEEKS = 4
INTERVAL_MAX_WEEKS = 12


class SurveillanceState(models.TextChoices):
    AWAITING_MINIMUM_DURATION = "awaiting_minimum_duration", "Awaiting minimum duration"
    ACTIVE = "active", "Active"
    POST_SWITCH = "post_switch", "Post-switch monitoring"
    PROGRESSED = "progressed", "Progressed"
    OFF_THERAPY = "off_therapy", "Off therapy"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DECEASED = "deceased", "Deceased"


class Patient(TimeStampedModel):
    """A woman with HR+/HER2- advanced breast cancer under ctDNA surveillance."""

    mrn = models.CharField("MRN", max_length=32, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    oncologist = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="patients"
    )
    surveillance_state = models.CharField(
        max_length=32,
        choices=SurveillanceState,
        default=SurveillanceState.AWAITING_MINIMUM_DURATION,
    )
    surveillance_interval_weeks = models.PositiveSmallIntegerField(default=8)
    surveillance_start_on = models.DateField(null=True, blank=True)
    # True when a clinician set the start date; a default derived from the first regimen
    # never overwrites an explicit date.
    surveillance_start_explicit = models.BooleanField(default=False)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(surveillance_interval_weeks__gte=INTERVAL_MIN_WEEKS)
                & Q(surveillance_interval_weeks__lte=INTERVAL_MAX_WEEKS),
                name="patient_interval_4_to_12_weeks",
            ),
            models.CheckConstraint(
                condition=Q(surveillance_state__in=SurveillanceState.values),
                name="patient_surveillance_state_valid",
            ),
        ]
        indexes = [
            # The patient list's default order and name search.
            models.Index(fields=["family_name", "given_name"], name="patient_name"),
            # Filtering the list (and later the worklist) by oncologist and state.
            models.Index(fields=["oncologist", "surveillance_state"], name="patient_onc_state"),
        ]

    def __str__(self) -> str:
        return f"Patient {self.pk}"  # no PHI in reprs: they reach logs and admin messages

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"


class Regimen(TimeStampedModel):
    """A line of therapy. The current regimen is the one without an end date."""

    class EndReason(models.TextChoices):
        PROGRESSION = "progression", "Progression"
        CTDNA_GUIDED_SWITCH = "ctdna_guided_switch", "ctDNA-guided switch"
        TOXICITY = "toxicity", "Toxicity"
        PATIENT_CHOICE = "patient_choice", "Patient choice"
        NEW_REGIMEN = "new_regimen", "Replaced by a new regimen"
        OTHER = "other", "Other"

    patient = models.ForeignKey(Patient, models.PROTECT, related_name="regimens")
    # Codes from the formulary (patients/data/formulary.json), validated by the services.
    endocrine_agent = models.CharField(max_length=32)
    cdk46_inhibitor = models.CharField("CDK4/6 inhibitor", max_length=32, blank=True)
    lhrh_agonist = models.CharField("LHRH agonist", max_length=32, blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_on__isnull=True),
                name="one_current_regimen_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="regimen_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | ~Q(end_reason=""),
                name="regimen_ended_has_reason",
            ),
        ]
        indexes = [
            # The patient page's regimen history and "current regimen" lookups.
            models.Index(fields=["patient", "-started_on"], name="regimen_patient_start"),
        ]

    def __str__(self) -> str:
        return f"Regimen {self.pk}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


class ImagingAssessment(TimeStampedModel):
    """A scan and its radiological outcome."""

    class Modality(models.TextChoices):
        CT = "ct", "CT"
        PET_CT = "pet_ct", "PET-CT"
        MRI = "mri", "MRI"
        BONE_SCAN = "bone_scan", "Bone scan"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        NO_PROGRESSION = "no_progression", "No progression"
        PROGRESSION = "progression", "Progression"
        INDETERMINATE = "indeterminate", "Indeterminate"

    patient = models.ForeignKey(Patient, models.PROTECT, related_name="scans")
    # The regimen the patient was on at the scan date (None before any regimen).
    regimen = models.ForeignKey(
        Regimen, models.PROTECT, null=True, blank=True, related_name="scans"
    )
    performed_on = models.DateField()
    modality = models.CharField(max_length=16, choices=Modality)
    outcome = models.CharField(max_length=16, choices=Outcome)
    note = models.TextField(blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["-performed_on", "-id"]
        indexes = [
            # The patient page's scan list and "latest scan" lookups.
            models.Index(fields=["patient", "-performed_on"], name="scan_patient_date"),
        ]

    def __str__(self) -> str:
        return f"Scan {self.pk}"
