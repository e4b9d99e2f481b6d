"""The bounds of every lab-report field, defined once: the models' columns use them and the
validator enforces them, so any value the validator accepts fits its column (issue 12 §7).
Pure constants (no Django), importable from the validator and the models alike."""

from __future__ import annotations

from decimal import Decimal

REPORT_ID_CHARS = 64
ACCESSION_CHARS = 64
MRN_CHARS = 32  # patients.Patient.mrn
ASSAY_CHARS = 100
GENE_CHARS = 32
HGVS_CHARS = 100
TRANSCRIPT_CHARS = 32
BUILD_CHARS = 16
CHROM_CHARS = 8
ALLELE_CHARS = 200
FILTER_CHARS = 255
FLAG_CHARS = 64
# PositiveIntegerField (PostgreSQL integer).
MAX_INT = 2_147_483_647
MAX_VERSION = MAX_INT
MAX_DEPTH = MAX_INT
# DecimalField(max_digits=12, decimal_places=10): fractions are kept to 1e-10.
FRACTION_DIGITS = 12
FRACTION_PLACES = 10
FRACTION_QUANTUM = Decimal(1).scaleb(-FRACTION_PLACES)
