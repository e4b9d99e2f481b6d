from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.db import TimeStampedModel

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


class Draw(TimeStampedModel):
    """One scheduled ESR1 blood draw (DESIGN.md §3-4).

    `planned_on` is the date the schedule rule gave; `due_on` is the date the clinic aims
    for (the same unless a nurse rescheduled inside the window). The window is fixed when
    the draw is planned (planned_on +/- DRAW_WINDOW_DAYS) and kept as two dates, so the
    worklist filters are plain indexed comparisons. "Due", "overdue" and "upcoming" are
    derived from them, never stored.
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COLLECTED = "collected", "Collected"
        RESULTED = "resulted", "Resulted"
        FAILED = "failed", "Failed"
        MISSED = "missed", "Missed"
        CANCELLED = "cancelled", "Cancelled"

    class MissReason(models.TextChoices):
        DID_NOT_ATTEND = "did_not_attend", "Patient did not attend"
        UNWELL = "unwell", "Patient unwell"
        ADMITTED = "admitted", "Patient admitted to hospital"
        VENOUS_ACCESS = "venous_access", "Venous access failed"
        CLINIC_ERROR = "clinic_error", "Clinic or scheduling error"
        OTHER = "other", "Other (comment required)"

    class CancelReason(models.TextChoices):
        DUPLICATE = "duplicate", "Duplicate appointment"
        CLINICIAN_REQUEST = "clinician_request", "Clinician request"
        PATIENT_REQUEST = "patient_request", "Patient request"
        OTHER = "other", "Other (comment required)"
        # Set by the system, never chosen by a nurse:
        SURVEILLANCE_ENDED = "surveillance_ended", "Surveillance ended"
        REPLACED_BY_REDRAW = "replaced_by_redraw", "Replaced by a redraw"
        REPLANNED = "replanned", "Replanned after a schedule change"
        REDRAW_NOT_NEEDED = "redraw_not_needed", "Redraw not needed (a corrected result passed QC)"
        FAILURE_RETRACTED = (
            "failure_retracted",
            "Redraw not needed (the failed result was withdrawn)",
        )

    CLOSED_WITH_SPECIMEN = (State.COLLECTED, State.RESULTED, State.FAILED)

    # No index of its own: draw_patient_state (patient, state, planned_on) serves it.
    patient = models.ForeignKey(Patient, models.PROTECT, related_name="draws", db_index=False)
    planned_on = models.DateField()
    due_on = models.DateField()
    window_opens_on = models.DateField()
    window_closes_on = models.DateField()
    state = models.CharField(max_length=16, choices=State, default=State.SCHEDULED)
    is_redraw = models.BooleanField(default=False)
    redraw_of = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="redraws", db_index=False
    )
    collected_at = models.DateTimeField(null=True, blank=True)
    # The collection date in the clinic's time zone: anchors the next due date.
    collected_on = models.DateField(null=True, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    accession = models.CharField(max_length=64, null=True, blank=True)
    # The lab the sample was sent to (a code from LAB_ACCOUNTS; DEFAULT_LAB when the nurse
    # names none): only that lab's accounts may look the draw up or report on it.
    lab = models.CharField(max_length=64, blank=True, default="", db_default="")
    reason_code = models.CharField(max_length=32, blank=True)
    reason_note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-planned_on", "-id"]
        constraints = [
            # The open draw: a patient has at most one scheduled draw. The planner and
            # every service rely on this; a race cannot create a second one.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(state="scheduled"),
                name="one_open_draw_per_patient",
            ),
            # Accessions are unique; open draws have none and stay out of the index.
            models.UniqueConstraint(
                fields=["accession"],
                condition=Q(accession__isnull=False),
                name="draw_accession_unique",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["collected", "resulted", "failed"])
                | (
                    Q(collected_at__isnull=False)
                    & Q(collected_on__isnull=False)
                    & Q(accession__isnull=False)
                ),
                name="draw_specimen_has_collection",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["missed", "cancelled"]) | ~Q(reason_code=""),
                name="draw_closed_has_reason",
            ),
            # A reschedule stays inside the window the draw was planned with.
            models.CheckConstraint(
                condition=Q(window_opens_on__lte=F("due_on"))
                & Q(due_on__lte=F("window_closes_on")),
                name="draw_due_inside_window",
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "scheduled",
                        "collected",
                        "resulted",
                        "failed",
                        "missed",
                        "cancelled",
                    ]
                ),
                name="draw_state_valid",
            ),
        ]
        indexes = [
            # Worklist "overdue" (closed longest ago first) and "due now" (closing soonest
            # first): pages read this index in order and stop after one page; the section
            # counts are index-only range scans (window_opens_on is carried for "due now").
            models.Index(
                fields=["window_closes_on", "due_on", "id"],
                include=["window_opens_on"],
                condition=Q(state="scheduled", is_redraw=False),
                name="draw_open_window",
            ),
            # Worklist "upcoming" rows: the windows that open next.
            models.Index(
                fields=["window_opens_on", "due_on", "id"],
                condition=Q(state="scheduled", is_redraw=False),
                name="draw_open_opens",
            ),
            # Worklist "redraw needed" rows (few).
            models.Index(
                fields=["due_on", "id"],
                condition=Q(state="scheduled", is_redraw=True),
                name="draw_open_redraw",
            ),
            # Worklist "collected, awaiting result" by days since collection.
            models.Index(
                fields=["collected_on", "id"],
                condition=Q(state="collected"),
                name="draw_awaiting_result",
            ),
            # Patient page history.
            models.Index(fields=["patient", "state", "planned_on"], name="draw_patient_state"),
            # The planner's per-patient anchors (scheduling._anchors): one index-only lookup
            # a patient, carrying every column the aggregate reads. Open draws stay out
            # (the anchors never read them), so the planner's inserts do not touch it.
            models.Index(
                fields=["patient"],
                include=["state", "collected_on", "planned_on", "reason_code", "id"],
                condition=~Q(state="scheduled"),
                name="draw_patient_anchors",
            ),
        ]

    def __str__(self) -> str:
        return f"Draw {self.pk}"

    @property
    def reason_label(self) -> str:
        """The coded miss/cancel/failure reason as people read it."""
        for choices in (self.MissReason, self.CancelReason):
            if self.reason_code in choices.values:
                return choices(self.reason_code).label
        return {
            "qc_fail": "Sample failed QC",
            "insufficient": "Insufficient sample",
            "sample_lost": "Sample lost",
        }.get(self.reason_code, self.reason_code)


class WorklistCount(models.Model):
    """How many draws each worklist bucket holds, by the dates its sections compare.

    Kept equal to the draws by statement-level triggers on patients_draw (PostgreSQL,
    migration 0004): every INSERT, UPDATE or DELETE adds its net change in the same
    statement, whatever code ran it, so the worklist counts its sections from a few hundred
    rows instead of every open draw. `kind`: `open` (scheduled, not a redraw), `redraw`
    (scheduled redraw), `collected` (awaiting its result; the three dates all hold
    collected_on). The SQLite demo counts the draws themselves.
    """

    kind = models.CharField(max_length=16)
    opens_on = models.DateField()
    closes_on = models.DateField()
    due_on = models.DateField()
    n = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "opens_on", "closes_on", "due_on"], name="worklist_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.opens_on}..{self.closes_on} due {self.due_on}: {self.n}"
