"""Workflows that span apps, so that no app has to call one above it.

Receiving a lab report stores it (liquidbiopsy) and then applies the SERENA-6 switch rule
(therapy, issue #5) in the same transaction, so the API answer lists the alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from liquidbiopsy.models import LabReport
from liquidbiopsy.services import report_ingest


@dataclass(frozen=True)
class ReportReceipt:
    report: LabReport
    created: bool
    alerts: list = field(default_factory=list)


@transaction.atomic
def report_receive(*, payload: dict, lab_account, upload=None) -> ReportReceipt:
    """Store one report version; the switch rule's call site is here (issue #5)."""
    result = report_ingest(payload=payload, lab_account=lab_account, upload=upload)
    # Issue #5 adds: alerts = therapy.services.alerts_evaluate_for_report(report=...) when
    # result.created. Until the rule exists no alert is raised, and the answer says so.
    return ReportReceipt(report=result.report, created=result.created, alerts=[])
