"""The rule's configuration: thresholds from settings, the ESR1 allow-list from JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache

from django.conf import settings

from therapy.rules import AllowedVariant, Allowlist, RuleConfig


@cache
def rule_config() -> RuleConfig:
    with open(settings.ESR1_ALLOWLIST_PATH, encoding="utf-8") as fh:
        raw = json.load(fh)
    allowlist = Allowlist(
        chrom=str(raw.get("chrom", "6")),
        variants=tuple(
            AllowedVariant(
                protein=v["protein"],
                pos=v.get("pos"),
                ref=v.get("ref", ""),
                alt=v.get("alt", ""),
            )
            for v in raw["variants"]
        ),
        any_lbd_missense=settings.ESR1_ANY_LBD_MISSENSE,
        lbd_codons=tuple(raw.get("lbd_codons", (310, 547))),
    )
    return RuleConfig(
        allowed_ais=frozenset(settings.SWITCH_ALLOWED_AIS),
        min_therapy_months=settings.MIN_THERAPY_MONTHS,
        vaf_floor=Decimal(str(settings.ESR1_VAF_FLOOR)),
        scan_lookback_days=settings.SCAN_LOOKBACK_DAYS,
        rise_factor=Decimal(str(settings.REALERT_RISE_FACTOR)),
        allowlist=allowlist,
    )
