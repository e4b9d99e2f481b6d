from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.db import TimeStampedModel
from liquidbiopsy import bounds as b

# DESIGN §1, §6: "not detected" counts (is informative) only from this ctDNA tumour fraction.
INFORMATIVE_TUMOUR_FRACTION = Decimal("0.01")


class LabReport(TimeStampedModel):
    """One version of a lab's ctDNA report, stored as received and never edited.

    (lab_account, report_id, version) is the idempotency key. A higher version supersedes
    the previous one (kept, with `is_current` False); a `cancelled` version retracts it.
    """

    class Status(models.TextChoices):
        FINAL = "final", "Final"
        AMENDED = "amended", "Amended"
        CORRECTED = "corrected", "Corrected"
        CANCELLED = "cancelled", "Cancelled"

    class QcStatus(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        INSUFFICIENT = "insufficient", "Insufficient sample"

    # Indexed as the prefix of one_report_version (a lab's reports) and in report_draw_lab.
    lab_account = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", db_index=False
    )
    report_id = models.CharField(max_length=b.REPORT_ID_CHARS)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status)
    is_current = models.BooleanField(default=True)
    superseded_by = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    draw = models.ForeignKey(
        "patients.Draw", models.PROTECT, related_name="reports", db_index=False
    )  # indexed by report_draw_lab
    patient = models.ForeignKey(
        "patients.Patient", models.PROTECT, related_name="reports", db_index=False
    )
    upload = models.ForeignKey(
        "liquidbiopsy.Upload",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        db_index=False,
    )
    assay = models.CharField(max_length=b.ASSAY_CHARS)
    qc_status = models.CharField(max_length=16, choices=QcStatus)
    # ctDNA tumour fraction as a fraction (0-1); "not detected" is only informative when it
    # is at least 1% (DESIGN.md §1).
    tumor_fraction = models.DecimalField(
        max_digits=b.FRACTION_DIGITS, decimal_places=b.FRACTION_PLACES, null=True, blank=True
    )
    collected_on = models.DateField()
    reported_on = models.DateField()
    payload = models.JSONField()  # exactly as received
    payload_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-collected_on", "-version", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lab_account", "report_id", "version"], name="one_report_version"
            ),
            models.UniqueConstraint(
                fields=["lab_account", "report_id"],
                condition=Q(is_current=True),
                name="one_current_report_version",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="report_version_positive"),
            models.CheckConstraint(
                condition=Q(tumor_fraction__isnull=True)
                | (Q(tumor_fraction__gte=0) & Q(tumor_fraction__lte=1)),
                name="report_tumor_fraction_0_1",
            ),
            models.CheckConstraint(
                condition=Q(collected_on__lte=models.F("reported_on")),
                name="report_collected_not_after_reported",
            ),
        ]
        indexes = [
            # The patient page and the switch rule: a patient's reports by collection date.
            models.Index(fields=["patient", "-collected_on"], name="report_patient_collected"),
            # A draw's reports, and "has this lab reported on this draw?" (the accession match)
            # in one probe: with only a draw index and a lab index, stale statistics let the
            # planner AND the two, reading every report of the lab (20,000 in the bench) for
            # each report received.
            models.Index(fields=["draw", "lab_account"], name="report_draw_lab"),
        ]

    def __str__(self) -> str:
        return f"Report {self.report_id} v{self.version}"

    @property
    def is_retracted(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def not_detected_informative(self) -> bool:
        """Whether "not detected" in this report counts: tumour fraction at least
        INFORMATIVE_TUMOUR_FRACTION (unknown: it does not)."""
        tf = self.tumor_fraction
        return tf is not None and Decimal(str(tf)) >= INFORMATIVE_TUMOUR_FRACTION


class VariantCall(models.Model):
    """A variant the lab reported. The allele fraction is stored as a fraction (0-1).

    `filter` is the caller's FILTER when it was not PASS ("" when not given): such a call is
    shown on the report and never used by the switch rule. `flags` are what the oncologist
    should see: `discordant` (protein and position name different variants),
    `non_canonical_transcript`, `possible_chip` (a clonal-haematopoiesis gene).
    """

    report = models.ForeignKey(LabReport, models.CASCADE, related_name="variants")
    gene = models.CharField(max_length=b.GENE_CHARS)
    # normalised, 3-letter
    hgvs_p = models.CharField("HGVS p.", max_length=b.HGVS_CHARS, blank=True)
    hgvs_c = models.CharField("HGVS c.", max_length=b.HGVS_CHARS, blank=True)
    transcript = models.CharField(max_length=b.TRANSCRIPT_CHARS, blank=True)
    genome_build = models.CharField(max_length=b.BUILD_CHARS, blank=True)  # GRCh38 / GRCh37
    chrom = models.CharField(max_length=b.CHROM_CHARS, blank=True)  # 1-22, X, Y, MT
    pos = models.BigIntegerField(null=True, blank=True)
    ref = models.CharField(max_length=b.ALLELE_CHARS, blank=True)
    alt = models.CharField(max_length=b.ALLELE_CHARS, blank=True)
    vaf = models.DecimalField(
        "allele fraction", max_digits=b.FRACTION_DIGITS, decimal_places=b.FRACTION_PLACES
    )
    depth = models.PositiveIntegerField(null=True, blank=True)
    filter = models.CharField(max_length=b.FILTER_CHARS, blank=True, default="", db_default="")
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["report_id", "gene", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vaf__gt=0) & Q(vaf__lte=1), name="variant_vaf_fraction_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gene} {self.hgvs_p or self.pos}"

    @property
    def vaf_percent(self):
        return self.vaf * 100


class Upload(TimeStampedModel):
    """A CSV or VCF file of reports and how its processing went."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"  # rejected: nothing from the file was stored

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)
    content = models.BinaryField()  # kept until processed, for the background worker
    content_sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    reports_stored = models.PositiveIntegerField(default=0)
    reports_unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # What the reader skipped and the lab should know ([{line, field, message}]: a structural
    # variant outside ESR1, which is no call): shown with a stored file, never an error.
    notes = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When a worker first claimed it, as the work sweep saw it (the claim's time, updated_at,
    # of an upload found `processing`): the give-up counts from here, not from its arrival.
    first_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["uploaded_by", "-created_at"], name="upload_by_user")]

    def __str__(self) -> str:
        return f"Upload {self.pk}"
