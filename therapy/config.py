"""The rule's configuration: thresholds from settings, the ESR1 allow-list from JSON."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from django.conf import settings

from liquidbiopsy.esr1 import load_allowlist
from patients.formulary import get_formulary
from therapy.rules import RuleConfig


@cache
def rule_config() -> RuleConfig:
    return RuleConfig(
        allowed_ais=frozenset(settings.SWITCH_ALLOWED_AIS),
        min_therapy_months=settings.MIN_THERAPY_MONTHS,
        vaf_floor=Decimal(str(settings.ESR1_VAF_FLOOR)),
        scan_lookback_days=settings.SCAN_LOOKBACK_DAYS,
        rise_factor=Decimal(str(settings.REALERT_RISE_FACTOR)),
        allowlist=load_allowlist(
            settings.ESR1_ALLOWLIST_PATH, any_lbd_missense=settings.ESR1_ANY_LBD_MISSENSE
        ),
        switch_target=get_formulary().switch_target,
    )
