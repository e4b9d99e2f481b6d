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

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.roles import Role
from accounts.services import user_create
from patients import services as patient_services
from patients.models import ImagingAssessment, Patient, SurveillanceState

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


DEMO_STEPS: list[Callable[[Demo], None]] = [step_users, step_cohort]


@transaction.atomic
def build_demo(*, today: dt.date, seed: int = 2026, size: int = 240) -> Demo:
    demo = Demo(rng=random.Random(seed), today=today, size=size)  # noqa: S311 - synthetic data
    for step in DEMO_STEPS:
        step(demo)
    return demo
