"""factory_boy factories. They write through the ORM directly (fast set-up), so tests of
rules and validation must go through the services instead."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.roles import Role
from patients.models import ImagingAssessment, Patient, Regimen, SurveillanceState


class UserFactory(factory.django.DjangoModelFactory):
    """A user holding one role: `UserFactory(role=Role.LAB)`. Admins get admin-site access."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery")

    @classmethod
    def _create(cls, model_class, *args, role: str = Role.NURSE, **kwargs):
        kwargs.setdefault("is_staff", role == Role.ADMIN)
        kwargs.setdefault("is_superuser", role == Role.ADMIN)
        user = super()._create(model_class, *args, **kwargs)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN-{n:06d}")
    given_name = factory.Faker("first_name_female")
    family_name = factory.Faker("last_name")
    date_of_birth = dt.date(1961, 4, 2)
    oncologist = factory.SubFactory(UserFactory, role=Role.ONCOLOGIST)
    surveillance_state = SurveillanceState.ACTIVE
    surveillance_interval_weeks = 8
    surveillance_start_on = dt.date(2026, 1, 5)


class RegimenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Regimen

    patient = factory.SubFactory(PatientFactory)
    endocrine_agent = "letrozole"
    cdk46_inhibitor = "palbociclib"
    started_on = dt.date(2025, 7, 1)


class ScanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImagingAssessment

    patient = factory.SubFactory(PatientFactory)
    performed_on = dt.date(2026, 6, 1)
    modality = ImagingAssessment.Modality.CT
    outcome = ImagingAssessment.Outcome.NO_PROGRESSION


def bulk_patients(n: int, oncologist, prefix: str, *, with_regimen: bool = True) -> list[Patient]:
    """`n` active patients (and their current regimen) in two INSERTs, for query-count tests."""
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"{prefix}{i:05d}",
            given_name="Q",
            family_name=f"{prefix}Patient{i:05d}",
            date_of_birth=dt.date(1960, 1, 1),
            oncologist=oncologist,
            surveillance_state=SurveillanceState.ACTIVE,
            surveillance_start_on=dt.date(2026, 1, 5),
        )
        for i in range(n)
    )
    if with_regimen:
        Regimen.objects.bulk_create(
            Regimen(
                patient=p,
                endocrine_agent="letrozole",
                cdk46_inhibitor="palbociclib",
                started_on=dt.date(2025, 7, 1),
            )
            for p in patients
        )
    return patients
