"""Clinician forms. They only shape input; the services validate and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from accounts.roles import Role
from patients.formulary import get_formulary
from patients.models import INTERVAL_MAX_WEEKS, INTERVAL_MIN_WEEKS, Draw, ImagingAssessment

# type=date inputs read and write ISO dates, whatever the language setting.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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
    date_of_birth = forms.DateField(widget=DATE_WIDGET)
    oncologist = OncologistChoiceField(queryset=oncologist_queryset())
    surveillance_start_on = forms.DateField(
        required=False,
        widget=DATE_WIDGET,
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
    started_on = forms.DateField(widget=DATE_WIDGET)

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
    performed_on = forms.DateField(widget=DATE_WIDGET)
    modality = forms.ChoiceField(choices=ImagingAssessment.Modality.choices)
    outcome = forms.ChoiceField(choices=ImagingAssessment.Outcome.choices)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def add_service_errors(form: forms.Form, exc) -> None:
    """Attach a service's ValidationError to the form, field by field."""
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class CollectForm(forms.Form):
    collected_at = forms.DateTimeField(
        label="Collected at",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    accession = forms.CharField(
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "Scan or type"}
        ),
    )


class MissForm(forms.Form):
    reason = forms.ChoiceField(choices=Draw.MissReason.choices)
    comment = forms.CharField(required=False, max_length=2000)


class CancelForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[
            (value, label)
            for value, label in Draw.CancelReason.choices
            if value in {"duplicate", "clinician_request", "patient_request", "other"}
        ]
    )
    comment = forms.CharField(required=False, max_length=2000)


class RescheduleForm(forms.Form):
    due_on = forms.DateField(label="New date", widget=DATE_WIDGET)


class SurveillanceForm(forms.Form):
    surveillance_start_on = forms.DateField(
        label="Start date",
        required=False,
        widget=DATE_WIDGET,
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
