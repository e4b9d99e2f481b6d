"""Coded decline and defer reasons (DESIGN.md §6), as data."""

from django.db import models


class ReasonCode(models.TextChoices):
    PATIENT_PREFERENCE = "patient_preference", "Patient preference"
    TOXICITY_CONCERN = "toxicity_concern", "Toxicity concern"
    DRUG_UNAVAILABLE = "drug_unavailable", "Drug not available or not reimbursed"
    AWAITING_IMAGING = "awaiting_imaging", "Awaiting confirmatory imaging"
    CLINICAL_TRIAL = "clinical_trial", "Clinical trial"
    POSSIBLE_CHIP_OR_LOW_VAF = (
        "possible_chip_or_low_vaf",
        "Possible clonal haematopoiesis or low allele fraction",
    )
    OTHER = "other", "Other (comment required)"
