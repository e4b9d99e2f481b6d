"""Clinician forms. They only shape input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from accounts.roles import Role
from patients.formulary import get_formulary
from patients.models import INTERVAL_MAX_WEEKS, INTERVAL_MIN_WEEKS, Draw, ImagingAssessment

# Dates are typed as text in the clinic's format ("2 Dec 2026"), not with <input type=date>:
# a date input shows the browser's locale order (a UK clinic saw 12/02/2026 for 2 Dec in an
# en-US browser), and 02/12 read the wrong way round is a draw two months off. A month written
# as a word cannot be misread, so only unambiguous forms are accepted: "2 Dec 2026",
# "2 December 2026" and ISO "2026-12-02"; an all-numeric day/month form is refused with a
# message that shows the format.
DATE_INPUT_FORMATS = ["%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%d-%b-%Y", "%d %b, %Y"]
DATETIME_INPUT_FORMATS = [
    *(f"{f} %H:%M" for f in ("%d %b %Y", "%d %B %Y", "%Y-%m-%d")),
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
]
DATE_HINT = "e.g. 2 Dec 2026"
DATE_INVALID = "Enter a date like 2 Dec 2026 (day, month as a word, year)."
DATETIME_INVALID = "Enter a date and time like 2 Dec 2026 14:05."


def clinic_day(value) -> str:
    """A date in the clinic's format: '2 Dec 2026' (no leading zero, month as a word)."""
    return f"{value.day} {value:%b %Y}" if value else ""


class ClinicDateInput(forms.TextInput):
    def __init__(self, attrs=None):
        base = {
            "placeholder": DATE_HINT,
            "autocomplete": "off",
            "inputmode": "text",
            "size": 12,
            "data-date": "",
        }
        super().__init__({**base, **(attrs or {})})

    def format_value(self, value):
        if hasattr(value, "strftime"):
            return clinic_day(value)
        return super().format_value(value)


class ClinicDateTimeInput(forms.TextInput):
    def __init__(self, attrs=None):
        base = {"placeholder": "e.g. 2 Dec 2026 14:05", "autocomplete": "off", "size": 17}
        super().__init__({**base, **(attrs or {})})

    def format_value(self, value):
        if hasattr(value, "strftime"):
            from django.utils import timezone

            if getattr(value, "tzinfo", None) is not None:
                value = timezone.localtime(value)
            return f"{clinic_day(value)} {value:%H:%M}"
        return super().format_value(value)


class ClinicDateField(forms.DateField):
    widget = ClinicDateInput
    input_formats = DATE_INPUT_FORMATS
    default_error_messages = {"invalid": DATE_INVALID}

    def to_python(self, value):
        if isinstance(value, str):
            value = " ".join(value.replace(",", " ").split())
        return super().to_python(value)


class ClinicDateTimeField(forms.DateTimeField):
    widget = ClinicDateTimeInput
    input_formats = DATETIME_INPUT_FORMATS
    default_error_messages = {"invalid": DATETIME_INVALID}

    def to_python(self, value):
        if isinstance(value, str):
            value = " ".join(value.replace(",", " ").split())
        return super().to_python(value)


def scheduling_reasons():
    from patients.scheduling import RESCHEDULE_REASONS

    return list(RESCHEDULE_REASONS.items())


def oncologist_queryset():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.ONCOLOGIST)
        .order_by("last_name", "username")
    )


class OncologistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class PatientCreateForm(forms.Form):
    mrn = forms.CharField(label="MRN", max_length=32)
    given_name = forms.CharField(max_length=100)
    family_name = forms.CharField(max_length=100)
    date_of_birth = ClinicDateField(
        help_text="Day, month as a word, year: e.g. 14 Mar 1961",
        widget=ClinicDateInput(attrs={"placeholder": "e.g. 14 Mar 1961"}),
    )
    oncologist = OncologistChoiceField(queryset=oncologist_queryset())
    surveillance_start_on = ClinicDateField(
        required=False,
        help_text="Leave empty to start 6 months after the first regimen.",
    )
    surveillance_interval_weeks = forms.IntegerField(
        min_value=INTERVAL_MIN_WEEKS, max_value=INTERVAL_MAX_WEEKS, initial=8
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["oncologist"].queryset = oncologist_queryset()


class RegimenForm(forms.Form):
    endocrine_agent = forms.ChoiceField()
    cdk46_inhibitor = forms.ChoiceField(label="CDK4/6 inhibitor", required=False)
    lhrh_agonist = forms.ChoiceField(label="LHRH agonist", required=False)
    started_on = ClinicDateField(help_text=DATE_HINT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        formulary = get_formulary()
        self.fields["endocrine_agent"].choices = formulary.choices("endocrine_agents")
        self.fields["cdk46_inhibitor"].choices = [
            ("", "None"),
            *formulary.choices("cdk46_inhibitors"),
        ]
        self.fields["lhrh_agonist"].choices = [("", "None"), *formulary.choices("lhrh_agonists")]


class ScanForm(forms.Form):
    performed_on = ClinicDateField(help_text=DATE_HINT)
    modality = forms.ChoiceField(choices=ImagingAssessment.Modality.choices)
    outcome = forms.ChoiceField(choices=ImagingAssessment.Outcome.choices)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def add_service_errors(form: forms.Form, exc) -> None:
    """Attach a service's ValidationError to the form, field by field."""
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class WorklistScanForm(forms.Form):
    """The worklist's scan box: a patient's wristband (MRN) or a tube's accession."""

    code = forms.CharField(
        label="Scan a wristband or tube, or type an MRN or accession",
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )

    def clean_code(self):
        return self.cleaned_data["code"].replace("\x00", "").strip()


CONFIRM_REQUIRED = "Confirm the patient's name and date of birth before saving."
# A collection time outside the draw's window is usually a typing slip (20 Oct for 20 Nov):
# the lab's report then carries the real date and is refused as a mismatch. It is saved
# only when the nurse ticks a confirmation that names the very date and the window.
COLLECTED_BEFORE_WINDOW = (
    "Collected {when} is before this draw's window opens ({window}). Check the date and "
    "time; if they are right, tick 'Record anyway' to save it."
)
COLLECTED_LONG_AFTER_WINDOW = (
    "Collected {when} is {days} after this draw's window closed ({window}). Check the date "
    "and time; if they are right, tick 'Record anyway' to save it."
)


def window_label(draw) -> str:
    """A draw's window as people read it: '30 Nov 2026 \u2013 14 Dec 2026' (an en dash)."""
    return f"{clinic_day(draw.window_opens_on)} \u2013 {clinic_day(draw.window_closes_on)}"


def clinic_day_time(value) -> str:
    """An aware datetime in clinic time: '20 Oct 2026 09:15'."""
    from django.utils import timezone

    if getattr(value, "tzinfo", None) is not None:
        value = timezone.localtime(value)
    return f"{clinic_day(value)} {value:%H:%M}"


def late_confirm_days() -> int:
    """How long after the window closes a collection still needs no confirmation (one
    window's width: an overdue draw taken in the following week is ordinary)."""
    from django.conf import settings

    return settings.DRAW_WINDOW_DAYS


def collection_outside_window(draw, collected_at) -> str:
    """'before', 'after' (long after the window closed) or '' for a collection time."""
    from django.utils import timezone

    if collected_at is None or draw is None:
        return ""
    local = timezone.localtime(collected_at) if timezone.is_aware(collected_at) else collected_at
    day = local.date()
    if day < draw.window_opens_on:
        return "before"
    if (day - draw.window_closes_on).days > late_confirm_days():
        return "after"
    return ""


def outside_window_message(draw, collected_at, outside: str) -> str:
    """What a nurse is told of a collection time outside the window (`outside`: 'before' or
    'after', from collection_outside_window); the page and the API say the same."""
    from django.utils import timezone

    when, window = clinic_day_time(collected_at), window_label(draw)
    if outside == "before":
        return COLLECTED_BEFORE_WINDOW.format(when=when, window=window)
    local = timezone.localtime(collected_at) if timezone.is_aware(collected_at) else collected_at
    late = (local.date() - draw.window_closes_on).days
    return COLLECTED_LONG_AFTER_WINDOW.format(when=when, window=window, days=f"{late} days")


class CollectForm(forms.Form):
    collected_at = ClinicDateTimeField(label="Collected at")
    accession = forms.CharField(
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "Scan the tube"}
        ),
    )
    # The page form sends these; the API has no such step (the caller names the draw).
    confirmed_patient = forms.IntegerField(required=False, widget=forms.HiddenInput)
    identity_checked = forms.BooleanField(required=False)
    # The collection date (ISO, clinic time) the nurse confirmed as outside the window; "on"
    # (an older page) confirms today. A tick given for one date does not cover another.
    early_ok = forms.CharField(required=False, max_length=10)

    def __init__(self, *args, draw=None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.draw = draw
        self.today = today
        self.outside_window = ""

    def _confirmed_day(self, value: str):
        import datetime as dt

        if value == "on":
            return self.today
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None

    def clean(self):
        from django.utils import timezone

        data = super().clean()
        if self.draw is None:
            return data
        if (
            not data.get("identity_checked")
            or data.get("confirmed_patient") != self.draw.patient_id
        ):
            self.add_error(None, CONFIRM_REQUIRED)
        collected_at = data.get("collected_at")
        self.outside_window = collection_outside_window(self.draw, collected_at)
        if self.outside_window:
            local = (
                timezone.localtime(collected_at)
                if timezone.is_aware(collected_at)
                else collected_at
            )
            confirmed = self._confirmed_day(data.get("early_ok") or "")
            if confirmed != local.date():
                self.add_error(
                    "collected_at",
                    outside_window_message(self.draw, collected_at, self.outside_window),
                )
        return data

    def service_kwargs(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("collected_at", "accession")}


REASON_REQUIRED = "Choose a reason."
CHOOSE_REASON = ("", "Choose a reason\u2026")


class MissForm(forms.Form):
    # No reason is preselected: marking a draw missed is a choice the nurse makes.
    reason = forms.ChoiceField(
        choices=[CHOOSE_REASON, *Draw.MissReason.choices],
        error_messages={"required": REASON_REQUIRED},
    )
    comment = forms.CharField(required=False, max_length=2000)


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[
            CHOOSE_REASON,
            *(
                (value, label)
                for value, label in Draw.CancelReason.choices
                if value in {"duplicate", "clinician_request", "patient_request", "other"}
            ),
        ],
        error_messages={"required": REASON_REQUIRED},
    )
    comment = forms.CharField(required=False, max_length=2000)


class RescheduleForm(forms.Form):
    due_on = ClinicDateField(label="New date", help_text=DATE_HINT)
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "—"), *scheduling_reasons()],
        required=False,
    )
    comment = forms.CharField(required=False, max_length=2000)


class SampleLostForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000)


class ListSearchForm(forms.Form):
    """A name/MRN search, sent by POST so it never lands in a URL or an access log."""

    q = forms.CharField(required=False, max_length=100)
    state = forms.CharField(required=False, max_length=32)
    oncologist = forms.IntegerField(required=False, min_value=0)
    section = forms.CharField(required=False, max_length=16)

    def clean_q(self):
        return self.cleaned_data["q"].replace("\x00", "").strip()


class SurveillanceForm(forms.Form):
    surveillance_start_on = ClinicDateField(
        label="Start date",
        required=False,
        help_text="Empty: first regimen start + the minimum time on therapy.",
    )
    surveillance_interval_weeks = forms.IntegerField(
        label="Interval (weeks)", min_value=INTERVAL_MIN_WEEKS, max_value=INTERVAL_MAX_WEEKS
    )
    surveillance_state = forms.ChoiceField(
        label="State",
        choices=[
            ("", "No change"),
            ("active", "Active (resume)"),
            ("withdrawn", "Withdrawn"),
            ("off_therapy", "Off therapy"),
            ("deceased", "Deceased"),
        ],
        required=False,
    )
