"""The demo: one user per role and a synthetic cohort, written through the real services.

`build_demo` runs `DEMO_STEPS` in order inside one transaction. Later features add a step
(draws, reports, alerts) by appending a function that takes the `Demo` context; each step
reads what earlier steps made from `demo` and may add to it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from accounts.services import user_create
from liquidbiopsy.models import LabReport, VariantCall
from liquidbiopsy.services import payload_digest
from patients import rules
from patients import services as patient_services
from patients.models import Draw, ImagingAssessment, Patient, SurveillanceState
from patients.scheduling import draws_plan

DEMO_USERS = [
    # username, role, first name, last name
    ("nurse", Role.NURSE, "Nora", "Nightingale"),
    ("oncologist", Role.ONCOLOGIST, "Olivia", "Okafor"),
    ("oncologist2", Role.ONCOLOGIST, "Omar", "Osei"),
    ("lab", Role.LAB, "Lab", "Service"),
    ("admin", Role.ADMIN, "Ada", "Admin"),
]
GIVEN = [
    "Alice",
    "Beatrice",
    "Carla",
    "Dana",
    "Elena",
    "Fatima",
    "Grace",
    "Hana",
    "Ingrid",
    "Julia",
    "Katya",
    "Lena",
    "Maria",
    "Nadia",
    "Olga",
    "Priya",
    "Rosa",
    "Sofia",
    "Tara",
    "Uma",
    "Vera",
    "Wendy",
    "Xena",
    "Yara",
    "Zoe",
    "Amara",
    "Bianca",
    "Chloe",
    "Delia",
    "Eva",
]
FAMILY = [
    "Adams",
    "Baker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ivanova",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okoro",
    "Patel",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zhang",
    "Novak",
    "Murphy",
    "Kowalski",
    "Haddad",
]


@dataclass
class Demo:
    rng: random.Random
    today: dt.date
    users: dict[str, object] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    patients: list[Patient] = field(default_factory=list)
    size: int = 240


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


def step_users(demo: Demo) -> None:
    User = get_user_model()
    for username, role, first, last in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                role=role,
                password=demo_password(username),
                email=f"{username}@example.org",
                first_name=first,
                last_name=last,
            )
        demo.users[username] = user
        demo.passwords[username] = demo_password(username)


def _weighted(rng: random.Random, options: dict[str, float]) -> str:
    return rng.choices(list(options), weights=list(options.values()))[0]


def step_cohort(demo: Demo) -> None:
    """Patients with varied regimens, start dates and scans, including progressions."""
    rng, today = demo.rng, demo.today
    oncologists = [demo.users["oncologist"], demo.users["oncologist2"]]
    for index in range(1, demo.size + 1):
        age_years = rng.randint(34, 86)
        dob = today - dt.timedelta(days=age_years * 365 + rng.randint(0, 364))
        explicit_start = rng.random() < 0.05
        months_on = rng.randint(0, 36)
        regimen_start = today - dt.timedelta(days=months_on * 30 + rng.randint(0, 29))
        patient = patient_services.patient_create(
            mrn=f"DEMO-{index:06d}",
            given_name=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            date_of_birth=dob,
            oncologist=oncologists[index % 2],
            surveillance_start_on=regimen_start + dt.timedelta(days=120)
            if explicit_start
            else None,
            surveillance_interval_weeks=_weighted(rng, {8: 0.85, 12: 0.08, 6: 0.05, 4: 0.02}),
            acting_user=None,
        )
        demo.patients.append(patient)
        if index % 40 == 0:
            continue  # newly referred: no regimen recorded yet
        premenopausal = age_years < 50
        patient_services.regimen_start(
            patient=patient,
            endocrine_agent=_weighted(
                rng, {"letrozole": 0.45, "anastrozole": 0.35, "exemestane": 0.2}
            ),
            cdk46_inhibitor=_weighted(
                rng, {"palbociclib": 0.5, "ribociclib": 0.3, "abemaciclib": 0.2}
            ),
            lhrh_agonist="goserelin" if premenopausal else "",
            started_on=regimen_start,
            acting_user=None,
        )
        scan_on = regimen_start + dt.timedelta(weeks=12, days=rng.randint(-5, 5))
        while scan_on <= today:
            outcome = _weighted(
                rng, {"no_progression": 0.91, "indeterminate": 0.05, "progression": 0.04}
            )
            patient_services.scan_record(
                patient=patient,
                performed_on=scan_on,
                modality=_weighted(rng, {"ct": 0.7, "pet_ct": 0.15, "mri": 0.05, "bone_scan": 0.1}),
                outcome=outcome,
                acting_user=None,
            )
            if outcome == ImagingAssessment.Outcome.PROGRESSION:
                break
            scan_on += dt.timedelta(weeks=12, days=rng.randint(-5, 5))
        roll = rng.random()
        if patient.surveillance_state != SurveillanceState.PROGRESSED and roll < 0.07:
            target = (
                SurveillanceState.WITHDRAWN
                if roll < 0.03
                else SurveillanceState.DECEASED
                if roll < 0.05
                else SurveillanceState.OFF_THERAPY
            )
            patient = Patient.objects.get(pk=patient.pk)
            if patient.surveillance_state != SurveillanceState.PROGRESSED:
                patient_services.patient_update(
                    patient=patient, acting_user=None, changes={"surveillance_state": target}
                )


def _history_for(patient, demo: Demo, accession_counter: list[int], stop_at: dt.date) -> list:
    """Past draws for one patient, dated by the real schedule rule, in varied states."""
    rng, today = demo.rng, demo.today
    window = settings.DRAW_WINDOW_DAYS
    fate = rng.random()  # what the latest draws look like for this patient
    rows: list[Draw] = []
    last_ok = last_missed = None
    while True:
        planned = rules.plan_next_draw(
            rules.ScheduleFacts(
                start_on=patient.surveillance_start_on,
                interval_weeks=patient.surveillance_interval_weeks,
                last_collected_on=last_ok,
                last_missed_on=last_missed,
                last_failed_on=None,
            ),
            today=patient.surveillance_start_on,  # history: the first draw is on the start date
            clinic_days=settings.CLINIC_DAYS,
        )
        due = planned.due_on
        opens, closes = rules.draw_window(due, window)
        if due > min(stop_at - dt.timedelta(days=3), today):
            break  # in the future: the planner's open draw (upcoming or later)
        if fate < 0.10 and today - dt.timedelta(days=60) <= due <= today - dt.timedelta(days=8):
            break  # this draw slipped through: the planner's draw for it is overdue
        if opens <= today <= closes and rng.random() < 0.6:
            break  # not collected yet: due now
        roll = rng.random()
        draw = Draw(
            patient=patient,
            planned_on=due,
            due_on=due,
            window_opens_on=opens,
            window_closes_on=closes,
        )
        if roll < 0.05:
            draw.state, draw.reason_code = Draw.State.MISSED, rng.choice(Draw.MissReason.values[:4])
            last_missed = due
        elif roll < 0.06:
            draw.state, draw.reason_code = Draw.State.CANCELLED, Draw.CancelReason.PATIENT_REQUEST
            last_missed = due
        else:
            day = min(due + dt.timedelta(days=rng.randint(-3, 3)), today)
            accession_counter[0] += 1
            draw.collected_on = day
            draw.collected_at = timezone.make_aware(
                dt.datetime.combine(day, dt.time(rng.randint(8, 12), rng.choice([0, 15, 30, 45])))
            )
            draw.accession = f"DEMO-ACC-{accession_counter[0]:06d}"
            recent = day >= today - dt.timedelta(days=18)
            if recent and fate > 0.94:
                draw.state, draw.reason_code = Draw.State.FAILED, "qc_fail"  # redraw needed
            elif recent:
                draw.state = Draw.State.COLLECTED  # awaiting the lab's result
                last_ok = day
            else:
                draw.state = Draw.State.RESULTED
                last_ok = day
        rows.append(draw)
    return rows


def step_draws(demo: Demo) -> None:
    """Past draws in every state, then the planner: every worklist section has rows."""
    stops = {
        scan.patient_id: scan.performed_on
        for scan in ImagingAssessment.objects.filter(outcome="progression")
    }
    # The cohort step's services planned first draws with no history behind them; the
    # schedule is rebuilt here from the simulated history.
    Draw.objects.all().delete()
    counter = [0]
    rows: list[Draw] = []
    for patient in Patient.objects.exclude(surveillance_start_on=None).order_by("pk"):
        if patient.surveillance_start_on >= demo.today:
            continue
        stop_at = stops.get(patient.pk, demo.today)
        if patient.surveillance_state in rules.DRAWING_STATES or patient.pk in stops:
            rows += _history_for(patient, demo, counter, stop_at)
    Draw.objects.bulk_create(rows)
    draws_plan(today=demo.today)


ESR1_DEMO_CHANGES = [
    ("p.Asp538Gly", "c.1613A>G", 152098791, "A", "G"),
    ("p.Tyr537Ser", "c.1610A>C", 152098788, "A", "C"),
    ("p.Leu536His", "c.1607T>A", 152098785, "T", "A"),
]
OTHER_DEMO_VARIANTS = [
    ("PIK3CA", "p.His1047Arg", "c.3140A>G", "3", 179234297, "A", "G"),
    ("TP53", "p.Arg273His", "c.818G>A", "17", 7673802, "C", "T"),
]


def step_reports(demo: Demo) -> None:
    """Lab reports for resulted and failed draws: mostly not detected, some PIK3CA/TP53,
    and in about one patient in eight an ESR1 mutation that emerges and rises."""
    rng, lab = demo.rng, demo.users["lab"]
    emerging = {p.pk: rng.choice(ESR1_DEMO_CHANGES) for p in demo.patients if rng.random() < 0.12}
    reports, variants = [], []
    draws = (
        Draw.objects.filter(state__in=[Draw.State.RESULTED, Draw.State.FAILED])
        .select_related("patient")
        .order_by("patient_id", "collected_on")
    )
    seen_per_patient: dict[int, int] = {}
    for draw in draws:
        n = seen_per_patient[draw.patient_id] = seen_per_patient.get(draw.patient_id, 0) + 1
        failed = draw.state == Draw.State.FAILED
        calls = []
        if not failed and draw.patient_id in emerging and n >= 3:
            change, cdna, pos, ref, alt = emerging[draw.patient_id]
            vaf = Decimal(str(round(0.0004 * (2 ** (n - 3)) * (1 + rng.random()), 6)))
            calls.append(("ESR1", change, cdna, "6", pos, ref, alt, min(vaf, Decimal("0.3"))))
        if not failed and rng.random() < 0.15:
            gene, change, cdna, chrom, pos, ref, alt = rng.choice(OTHER_DEMO_VARIANTS)
            calls.append(
                (
                    gene,
                    change,
                    cdna,
                    chrom,
                    pos,
                    ref,
                    alt,
                    Decimal(str(round(rng.uniform(0.002, 0.08), 4))),
                )
            )
        body = {
            "report_id": f"DEMO-{draw.pk:07d}",
            "version": 1,
            "status": "final",
            "accession": draw.accession,
            "patient": {
                "mrn": draw.patient.mrn,
                "date_of_birth": draw.patient.date_of_birth.isoformat(),
            },
            "collected_on": draw.collected_on.isoformat(),
            "reported_on": (draw.collected_on + dt.timedelta(days=9)).isoformat(),
            "assay": "Guardant360 CDx",
            "qc_status": "fail" if failed else "pass",
            "tumor_fraction": None if failed else round(rng.uniform(0.002, 0.08), 4),
            "variants": [
                {
                    "gene": g,
                    "hgvs_p": hp,
                    "hgvs_c": hc,
                    "genome_build": "GRCh38",
                    "chrom": c,
                    "pos": p,
                    "ref": r,
                    "alt": a,
                    "vaf": float(vf),
                }
                for g, hp, hc, c, p, r, a, vf in calls
            ],
        }
        report = LabReport(
            lab_account=lab,
            report_id=body["report_id"],
            version=1,
            status="final",
            draw=draw,
            patient=draw.patient,
            assay=body["assay"],
            qc_status=body["qc_status"],
            tumor_fraction=None if failed else Decimal(str(body["tumor_fraction"])),
            collected_on=draw.collected_on,
            reported_on=draw.collected_on + dt.timedelta(days=9),
            payload=body,
            payload_sha256=payload_digest(body),
            received_at=timezone.now(),
        )
        reports.append(report)
        variants.append(
            [
                VariantCall(
                    gene=g,
                    hgvs_p=hp,
                    hgvs_c=hc,
                    genome_build="GRCh38",
                    chrom=c,
                    pos=p,
                    ref=r,
                    alt=a,
                    vaf=vf,
                )
                for g, hp, hc, c, p, r, a, vf in calls
            ]
        )
    LabReport.objects.bulk_create(reports)
    for report, calls in zip(reports, variants, strict=True):
        for call in calls:
            call.report = report
    VariantCall.objects.bulk_create([call for calls in variants for call in calls])


def step_alerts(demo: Demo) -> None:
    """Run the switch rule on the ESR1 reports, then give the alerts varied histories:
    open, escalated, deferred, accepted (patients switched) and declined."""
    from therapy.decisions import alert_acknowledge
    from therapy.models import Alert
    from therapy.reconcile import alerts_reconcile
    from therapy.sweep import alerts_sweep

    alerts_reconcile(
        LabReport.objects.filter(variants__gene="ESR1").values_list("patient_id", flat=True)
    )
    oncologist = demo.users["oncologist"]
    pending = list(
        Alert.objects.filter(state="open", kind="switch_recommended").order_by("opened_at", "id")
    )
    for index, alert in enumerate(pending):
        decider = alert.patient.oncologist if alert.patient.oncologist else oncologist
        if index % 5 == 0:
            alert_acknowledge(
                alert=alert,
                decision="switch",
                effective_on=demo.today,
                attest_no_progression=alert.needs_confirmatory_imaging,
                acting_user=decider,
            )
        elif index % 5 == 1:
            alert_acknowledge(
                alert=alert,
                decision="decline",
                reason_code="possible_chip_or_low_vaf",
                comment="Low allele fraction: repeat at the next draw.",
                acting_user=decider,
            )
        elif index % 5 == 2:
            alert_acknowledge(
                alert=alert,
                decision="defer",
                reason_code="awaiting_imaging",
                defer_until=demo.today + dt.timedelta(days=14),
                acting_user=decider,
            )
        elif index % 5 == 3:  # waiting four days: the sweep escalates it
            Alert.objects.filter(pk=alert.pk).update(
                opened_at=timezone.now() - dt.timedelta(days=4)
            )
    alerts_sweep()


def step_lifecycle(demo: Demo) -> None:
    """Every alert state on screen: a switch alert withdrawn because its reports were
    cancelled, a declined one flagged because an amendment removed its variant, a progression
    alert acknowledged, and one withdrawn because the patient died. All through the same
    workflows the API calls."""
    import copy

    from clinic.workflows import patient_change, report_receive
    from therapy.decisions import alert_acknowledge
    from therapy.models import Alert, AlertEvidence

    def resend(alert, **changes):
        reports = LabReport.objects.filter(
            pk__in=AlertEvidence.objects.filter(alert=alert).values("report_id")
        )
        for report in reports:
            body = copy.deepcopy(report.payload)
            body.update(version=report.version + 1, reported_on=demo.today.isoformat(), **changes)
            report_receive(payload=body, lab_account=report.lab_account)

    oncologist = demo.users["oncologist"]
    open_switch = Alert.objects.filter(kind="switch_recommended", state="open").order_by("pk")
    if open_switch.count() > 1:
        resend(open_switch.last(), status="cancelled", variants=[])
    declined = Alert.objects.filter(state="declined").order_by("pk").first()
    if declined is not None:
        resend(declined, status="corrected", variants=[])
    progression = list(Alert.objects.filter(kind="esr1_with_progression", state="open")[:2])
    if progression:
        alert_acknowledge(
            alert=progression[0],
            decision="acknowledge",
            comment="Progression confirmed on CT; second-line options discussed.",
            acting_user=progression[0].patient.oncologist or oncologist,
        )
    if len(progression) > 1:
        patient_change(
            patient=progression[1].patient,
            acting_user=demo.users["admin"],
            changes={"surveillance_state": "deceased"},
        )


def step_dashboard(demo: Demo) -> None:
    """The demo stores its reports in bulk, below the workflows: refresh the dashboard's
    per-patient ESR1 dates for the whole cohort (set-based) in the same transaction."""
    from clinic.cohort import cohort_refresh

    cohort_refresh(Patient.objects.values_list("pk", flat=True))


DEMO_STEPS: list[Callable[[Demo], None]] = [
    step_users,
    step_cohort,
    step_draws,
    step_reports,
    step_alerts,
    step_lifecycle,
    step_dashboard,
]


@transaction.atomic
def build_demo(*, today: dt.date, seed: int = 2026, size: int = 240) -> Demo:
    demo = Demo(rng=random.Random(seed), today=today, size=size)  # noqa: S311 - synthetic data
    for step in DEMO_STEPS:
        step(demo)
    return demo
