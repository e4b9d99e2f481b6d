"""Every write on patients, regimens and scans. Each is one transaction with its audit row.

Services validate everything and raise one `ValidationError` naming every bad field, so
nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.roles import Role, has_role
from audit.services import audit_record
from core.clock import clinic_today
from core.exceptions import NotEligible
from patients import rules, selectors
from patients.formulary import get_formulary
from patients.models import (
    INTERVAL_MAX_WEEKS,
    INTERVAL_MIN_WEEKS,
    ImagingAssessment,
    Patient,
    Regimen,
    SurveillanceState,
)
from patients.scheduling import draws_plan

MRN_TAKEN = "A patient with this MRN already exists."
MRN_BLANK = "MRN is required."
MRN_INVISIBLE = (
    "The MRN contains an invisible or control character (pasted from a document?): type it again."
)
MRN_CHARACTERS = (
    "The MRN may hold only ASCII letters, digits, spaces and punctuation, starting with a "
    "letter or digit: a typographic dash or a letter of another alphabet looks the same as an "
    "MRN on record but is not."
)
# An MRN is ASCII: a look-alike (en dash, non-breaking hyphen, Cyrillic "\u041c") of an MRN on
# record would otherwise register a second patient that no one can tell apart from the first.
MRN_SHAPE = re.compile(r"[A-Za-z0-9][ -~]*")  # then any printable ASCII (#, :, +, ( ... )
MRN_TAKEN_OTHER_CASE = (
    "MRN {existing} already exists: an MRN differing only in letter case is the same MRN."
)
NAME_BLANK = "This name is required."
DOB_FUTURE = "Date of birth cannot be in the future."
DOB_IMPLAUSIBLE = "Date of birth must be after 1900-01-01."
NOT_ONCOLOGIST = "'{username}' is not an active oncologist."
INTERVAL_RANGE = f"Interval must be {INTERVAL_MIN_WEEKS} to {INTERVAL_MAX_WEEKS} weeks."
START_BEFORE_BIRTH = "Surveillance cannot start before the date of birth."
START_TOO_FAR = "Surveillance cannot start more than {years} years ahead (on or before {latest})."
# How far ahead a clinician may set a surveillance start date: far enough for any real
# plan, and it keeps every date the schedule derives from it inside the calendar.
START_HORIZON_YEARS = 5
DATE_FUTURE = "This date cannot be in the future."
DATE_BEFORE_BIRTH = "This date is before the patient's date of birth."
REGIMEN_BEFORE_CURRENT = "A new regimen cannot start before the current one (started {started_on})."
STATE_NOT_SETTABLE = "State cannot be set to '{state}' by hand; choose one of: {choices}."
STATE_FINAL = "The patient is recorded as deceased; the state cannot change."
END_REASON_INVALID = "Unknown end reason '{reason}'."
UNKNOWN_FIELDS = "Unknown field."
SWITCH_NOT_ACTIVE = "Only a patient in active surveillance can be switched (state: {state})."

PATIENT_UPDATABLE = frozenset(
    {"surveillance_start_on", "surveillance_interval_weeks", "oncologist", "surveillance_state"}
)


def _check_interval(weeks: int | None, errors: dict[str, list[str]]) -> None:
    if weeks is not None and not INTERVAL_MIN_WEEKS <= weeks <= INTERVAL_MAX_WEEKS:
        errors.setdefault("surveillance_interval_weeks", []).append(INTERVAL_RANGE)


def _check_oncologist(user, errors: dict[str, list[str]]) -> None:
    if user is None or not user.is_active or not has_role(user, Role.ONCOLOGIST):
        name = getattr(user, "username", "")
        errors.setdefault("oncologist", []).append(NOT_ONCOLOGIST.format(username=name))


def _check_past_date(
    field: str, day: dt.date | None, patient_dob: dt.date | None, errors: dict[str, list[str]]
) -> None:
    if day is None:
        return
    if day > clinic_today():
        errors.setdefault(field, []).append(DATE_FUTURE)
    if patient_dob is not None and day < patient_dob:
        errors.setdefault(field, []).append(DATE_BEFORE_BIRTH)


def _check_start(
    start_on: dt.date | None, date_of_birth: dt.date, errors: dict[str, list[str]]
) -> None:
    if start_on is None:
        return
    if start_on < date_of_birth:
        errors.setdefault("surveillance_start_on", []).append(START_BEFORE_BIRTH)
    latest = rules.add_months(clinic_today(), 12 * START_HORIZON_YEARS)
    if start_on > latest:
        errors.setdefault("surveillance_start_on", []).append(
            START_TOO_FAR.format(years=START_HORIZON_YEARS, latest=latest.isoformat())
        )


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def patient_create(
    *,
    mrn: str,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date,
    oncologist,
    surveillance_start_on: dt.date | None = None,
    surveillance_interval_weeks: int | None = None,
    acting_user,
) -> Patient:
    """Register a patient. Without a start date she awaits her first regimen."""
    mrn = unicodedata.normalize("NFKC", mrn).strip()  # full-width digits are the digits
    mrn = re.sub(" {2,}", " ", mrn)  # a page shows a run of spaces as one: it is one
    given_name, family_name = given_name.strip(), family_name.strip()
    errors: dict[str, list[str]] = {}
    same = Patient.objects.filter(mrn__iexact=mrn).values_list("mrn", flat=True)[:1]
    if not mrn:
        errors["mrn"] = [MRN_BLANK]
    elif any(unicodedata.category(c) in ("Cc", "Cf") for c in mrn):
        errors["mrn"] = [MRN_INVISIBLE]
    elif not MRN_SHAPE.fullmatch(mrn):
        errors["mrn"] = [MRN_CHARACTERS]
    elif existing := list(same):
        # One person, one MRN: a case variant would be a second, look-alike record.
        taken = MRN_TAKEN if existing[0] == mrn else MRN_TAKEN_OTHER_CASE
        errors["mrn"] = [taken.format(existing=existing[0])]
    for field, value in (("given_name", given_name), ("family_name", family_name)):
        if not value:
            errors[field] = [NAME_BLANK]
    if date_of_birth > clinic_today():
        errors["date_of_birth"] = [DOB_FUTURE]
    elif date_of_birth < dt.date(1900, 1, 1):
        errors["date_of_birth"] = [DOB_IMPLAUSIBLE]
    _check_oncologist(oncologist, errors)
    _check_interval(surveillance_interval_weeks, errors)
    _check_start(surveillance_start_on, date_of_birth, errors)
    _raise_if(errors)

    patient = Patient(
        mrn=mrn,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        oncologist=oncologist,
        surveillance_interval_weeks=surveillance_interval_weeks
        or settings.SURVEILLANCE_INTERVAL_WEEKS_DEFAULT,
        surveillance_start_on=surveillance_start_on,
        surveillance_start_explicit=surveillance_start_on is not None,
    )
    patient.surveillance_state = rules.state_for_dates(
        state=patient.surveillance_state, start_on=surveillance_start_on, today=clinic_today()
    )
    patient._history_user = acting_user
    try:
        with transaction.atomic():  # a concurrent insert of the same MRN loses cleanly
            patient.save()
    except IntegrityError as exc:
        raise ValidationError({"mrn": [MRN_TAKEN]}) from exc
    audit_record(action="patient.create", acting_user=acting_user, obj=patient)
    # No results yet to judge: active at once if her start date has come.
    draws_plan(patient_ids=[patient.pk], acting_user=acting_user, activate=True)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, acting_user, changes: dict[str, Any]) -> Patient:
    """Change surveillance settings, the responsible oncologist or the state by hand."""
    errors: dict[str, list[str]] = {}
    for key in set(changes) - PATIENT_UPDATABLE:
        errors[key] = [UNKNOWN_FIELDS]
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    today = clinic_today()
    changed: list[str] = []

    if "oncologist" in changes:
        _check_oncologist(changes["oncologist"], errors)
    if "surveillance_interval_weeks" in changes:
        _check_interval(changes["surveillance_interval_weeks"], errors)
        if changes["surveillance_interval_weeks"] is None:
            errors["surveillance_interval_weeks"] = [INTERVAL_RANGE]
    if changes.get("surveillance_start_on") is not None:
        _check_start(changes["surveillance_start_on"], patient.date_of_birth, errors)
    target_state = changes.get("surveillance_state")
    if "surveillance_state" in changes:
        if target_state not in rules.MANUAL_TARGET_STATES:
            errors["surveillance_state"] = [
                STATE_NOT_SETTABLE.format(
                    state=target_state, choices=", ".join(sorted(rules.MANUAL_TARGET_STATES))
                )
            ]
        elif (
            patient.surveillance_state == SurveillanceState.DECEASED
            and target_state != SurveillanceState.DECEASED
        ):
            errors["surveillance_state"] = [STATE_FINAL]
    _raise_if(errors)

    if "oncologist" in changes and changes["oncologist"].pk != patient.oncologist_id:
        patient.oncologist = changes["oncologist"]
        changed.append("oncologist")
    if (
        "surveillance_interval_weeks" in changes
        and changes["surveillance_interval_weeks"] != patient.surveillance_interval_weeks
    ):
        patient.surveillance_interval_weeks = changes["surveillance_interval_weeks"]
        changed.append("surveillance_interval_weeks")
    if "surveillance_start_on" in changes:
        explicit = changes["surveillance_start_on"]
        if explicit is None:  # back to the default: first regimen start + minimum months
            first = Regimen.objects.filter(patient=patient).order_by("started_on", "id").first()
            explicit_default = (
                rules.default_surveillance_start(first.started_on, settings.MIN_THERAPY_MONTHS)
                if first
                else None
            )
            patient.surveillance_start_on = explicit_default
        else:
            patient.surveillance_start_on = explicit
        patient.surveillance_start_explicit = explicit is not None
        changed += ["surveillance_start_on", "surveillance_start_explicit"]
    state = patient.surveillance_state
    if target_state is not None and target_state != state:
        # "active" by hand means "resume surveillance": the start date decides between
        # awaiting and active.
        state = target_state
    new_state = rules.state_for_dates(
        state=state, start_on=patient.surveillance_start_on, today=today
    )
    if new_state != patient.surveillance_state:
        patient.surveillance_state = new_state
        changed.append("surveillance_state")

    if changed:
        patient._history_user = acting_user
        patient.save(update_fields=[*changed, "updated_at"])
        audit_record(
            action="patient.update",
            acting_user=acting_user,
            obj=patient,
            detail={"fields": sorted(set(changed))},
        )
    schedule_inputs = {"surveillance_start_on", "surveillance_interval_weeks"}
    draws_plan(  # its caller reconciles her alerts (clinic.workflows.patient_change)
        patient_ids=[patient.pk],
        replan=bool(schedule_inputs & set(changed)),
        acting_user=acting_user,
        activate=True,
    )
    return patient


@transaction.atomic
def regimen_start(
    *,
    patient: Patient,
    endocrine_agent: str,
    cdk46_inhibitor: str,
    started_on: dt.date,
    lhrh_agonist: str = "",
    previous_end_reason: str = Regimen.EndReason.NEW_REGIMEN,
    allow_future_days: int = 0,
    acting_user,
) -> Regimen:
    """Start a regimen; the current one (if any) ends the same day.

    The first regimen sets the default surveillance start (regimen start + the minimum
    time on therapy) unless a clinician set one explicitly. Ending the current regimen for
    progression is progression (DESIGN §5: it ends the line): the patient becomes
    `progressed` and drawing stops. `allow_future_days` lets an accepted switch be dated
    ahead (at most 30 days, checked by the decision).
    """
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    errors: dict[str, list[str]] = {
        field: [message]
        for field, message in get_formulary()
        .combination_errors(
            endocrine_agent=endocrine_agent,
            cdk46_inhibitor=cdk46_inhibitor,
            lhrh_agonist=lhrh_agonist,
        )
        .items()
    }
    _check_past_date("started_on", started_on, patient.date_of_birth, errors)
    if (
        allow_future_days
        and "started_on" in errors
        and started_on <= clinic_today() + dt.timedelta(days=allow_future_days)
        and started_on >= patient.date_of_birth
    ):
        del errors["started_on"]
    if previous_end_reason not in Regimen.EndReason.values:
        errors["end_reason"] = [END_REASON_INVALID.format(reason=previous_end_reason)]
    current = selectors.current_regimen(patient=patient)
    if current is not None and started_on < current.started_on:
        errors.setdefault("started_on", []).append(
            REGIMEN_BEFORE_CURRENT.format(started_on=current.started_on.isoformat())
        )
    _raise_if(errors)

    if current is not None:
        current.ended_on = started_on
        current.end_reason = previous_end_reason
        current._history_user = acting_user
        current.save(update_fields=["ended_on", "end_reason", "updated_at"])
        audit_record(
            action="regimen.end",
            acting_user=acting_user,
            obj=current,
            patient_id=patient.pk,
            detail={"end_reason": previous_end_reason},
        )
    regimen = Regimen(
        patient=patient,
        endocrine_agent=endocrine_agent,
        cdk46_inhibitor=cdk46_inhibitor,
        lhrh_agonist=lhrh_agonist,
        started_on=started_on,
        recorded_by=acting_user,
    )
    regimen._history_user = acting_user
    regimen.save()
    audit_record(
        action="regimen.start", acting_user=acting_user, obj=regimen, patient_id=patient.pk
    )

    start_before = patient.surveillance_start_on
    if current is None and not patient.surveillance_start_explicit:
        patient.surveillance_start_on = rules.default_surveillance_start(
            started_on, settings.MIN_THERAPY_MONTHS
        )
    progressed = (
        current is not None
        and previous_end_reason == Regimen.EndReason.PROGRESSION
        and patient.surveillance_state in rules.PROGRESSABLE_STATES
    )
    if progressed:
        patient.surveillance_state = SurveillanceState.PROGRESSED
        audit_record(
            action="patient.progressed",
            acting_user=acting_user,
            obj=patient,
            detail={"regimen_id": current.pk, "by": "regimen_end"},
        )
    patient.surveillance_state = rules.state_for_dates(
        state=patient.surveillance_state,
        start_on=patient.surveillance_start_on,
        today=clinic_today(),
    )
    patient._history_user = acting_user
    patient.save(update_fields=["surveillance_start_on", "surveillance_state", "updated_at"])
    draws_plan(  # its callers reconcile her alerts (clinic.workflows, therapy.decisions)
        patient_ids=[patient.pk],
        replan=patient.surveillance_start_on != start_before,
        acting_user=acting_user,
        activate=True,
    )
    return regimen


@transaction.atomic
def scan_record(
    *,
    patient: Patient,
    performed_on: dt.date,
    modality: str,
    outcome: str,
    note: str = "",
    acting_user,
) -> ImagingAssessment:
    """Record a scan. Progression on the current regimen ends surveillance (`progressed`)."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    errors: dict[str, list[str]] = {}
    _check_past_date("performed_on", performed_on, patient.date_of_birth, errors)
    if modality not in ImagingAssessment.Modality.values:
        errors["modality"] = [
            f"Unknown modality '{modality}'; choose one of: "
            + ", ".join(ImagingAssessment.Modality.values)
            + "."
        ]
    if outcome not in ImagingAssessment.Outcome.values:
        errors["outcome"] = [
            f"Unknown outcome '{outcome}'; choose one of: "
            + ", ".join(ImagingAssessment.Outcome.values)
            + "."
        ]
    _raise_if(errors)

    regimen = (
        Regimen.objects.filter(patient=patient, started_on__lte=performed_on)
        .order_by("-started_on", "-id")
        .first()
    )
    scan = ImagingAssessment(
        patient=patient,
        regimen=regimen,
        performed_on=performed_on,
        modality=modality,
        outcome=outcome,
        note=note.strip(),
        recorded_by=acting_user,
    )
    scan._history_user = acting_user
    scan.save()
    audit_record(
        action="scan.record",
        acting_user=acting_user,
        obj=scan,
        patient_id=patient.pk,
        detail={"outcome": outcome},
    )
    # The current regimen is the one in force today: a switch accepted to take effect
    # ahead has not replaced the AI yet, so a progression scan dated before it is on the
    # current regimen (DESIGN §3). The planned regimen stays recorded; the oncologist
    # decides the next line, and the audit event names it.
    # A line is allowed-AI + CDK4/6i treatment (DESIGN §5; SWITCH_ALLOWED_AIS, the switch
    # rule's own setting), so this service and the rule see the same line.
    allowed_ais = frozenset(settings.SWITCH_ALLOWED_AIS)
    regimens = list(Regimen.objects.filter(patient=patient))
    line_start = rules.line_start_on(
        [
            rules.RegimenSpan(
                r.started_on,
                r.ended_on,
                r.end_reason,
                r.endocrine_agent in allowed_ais and bool(r.cdk46_inhibitor),
            )
            for r in regimens
        ],
        clinic_today(),
    )
    if (
        outcome == ImagingAssessment.Outcome.PROGRESSION
        and line_start is not None
        and performed_on >= line_start
        and patient.surveillance_state in rules.PROGRESSABLE_STATES
    ):
        patient.surveillance_state = SurveillanceState.PROGRESSED
        patient._history_user = acting_user
        patient.save(update_fields=["surveillance_state", "updated_at"])
        detail = {"scan_id": scan.pk}
        planned = [r.pk for r in regimens if r.started_on > clinic_today()]
        if planned:
            detail["planned_regimen_id"] = planned[0]
        audit_record(
            action="patient.progressed",
            acting_user=acting_user,
            obj=patient,
            detail=detail,
        )
        draws_plan(patient_ids=[patient.pk], acting_user=acting_user)  # drawing stops
    return scan


@transaction.atomic
def patient_mark_switched(*, patient: Patient, acting_user) -> Patient:
    """After a ctDNA-guided switch: post-switch monitoring (draws continue, no switch alerts).

    Only from `active`: nothing moves a deceased, withdrawn or progressed patient back."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.surveillance_state not in (SurveillanceState.ACTIVE, SurveillanceState.POST_SWITCH):
        raise NotEligible(SWITCH_NOT_ACTIVE.format(state=patient.surveillance_state))
    if patient.surveillance_state != SurveillanceState.POST_SWITCH:
        patient.surveillance_state = SurveillanceState.POST_SWITCH
        patient._history_user = acting_user
        patient.save(update_fields=["surveillance_state", "updated_at"])
        audit_record(action="patient.post_switch", acting_user=acting_user, obj=patient)
    draws_plan(patient_ids=[patient.pk], acting_user=acting_user)
    return patient
