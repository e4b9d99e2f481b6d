from __future__ import annotations

from django import forms

from patients.forms import ClinicDateField
from therapy.models import Alert
from therapy.reasons import ReasonCode


class AcknowledgeForm(forms.Form):
    # The actions, as the oncologist reads them (the model's labels describe recorded outcomes),
    # and which an alert of each kind offers (the service refuses the others too).
    ACTIONS = (
        (Alert.Decision.SWITCH, "Switch to camizestrant"),
        (Alert.Decision.DEFER, "Defer"),
        (Alert.Decision.DECLINE, "Decline"),
        (Alert.Decision.ACKNOWLEDGE, "Acknowledge: managed on the progression pathway"),
    )
    BY_KIND = {
        Alert.Kind.SWITCH_RECOMMENDED: ("switch", "defer", "decline"),
        Alert.Kind.REVIEW: ("defer", "decline"),
        Alert.Kind.ESR1_WITH_PROGRESSION: ("acknowledge",),
    }
    decision = forms.ChoiceField(choices=ACTIONS, widget=forms.RadioSelect)
    # Dates typed in the clinic's format (patients.forms explains why not <input type=date>).
    effective_on = ClinicDateField(label="Switch takes effect on", required=False)
    scan_performed_on = ClinicDateField(
        label="Confirmatory scan (no progression) on", required=False
    )
    scan_modality = forms.ChoiceField(
        label="Scan modality",
        required=False,
        choices=[("ct", "CT"), ("pet_ct", "PET-CT"), ("mri", "MRI"), ("bone_scan", "Bone scan")],
    )
    attest_no_progression = forms.BooleanField(
        label="I attest there is no radiological progression (recorded in the audit trail)",
        required=False,
    )
    defer_until = ClinicDateField(label="Defer until", required=False)
    reason_code = forms.ChoiceField(
        label="Reason (defer or decline)", required=False, choices=[("", "—"), *ReasonCode.choices]
    )
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    # The alert's revision when the page was drawn: a decision on a changed alert is refused.
    revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # Set by the confirmation step of a switch (the summary was shown and confirmed).
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # What that summary was drawn from and said: her current regimen then, and the sentence.
    # A confirmation is recorded only while both still hold (clinic.alerts.alert_decide).
    summary_regimen = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    summary = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args, kind: str = Alert.Kind.SWITCH_RECOMMENDED, **kwargs):
        super().__init__(*args, **kwargs)
        offered = self.BY_KIND.get(kind, ())
        self.fields["decision"].choices = [(v, t) for v, t in self.ACTIONS if v in offered]
        if len(offered) == 1:
            self.fields["decision"].initial = offered[0]
        if kind == Alert.Kind.ESR1_WITH_PROGRESSION:
            self.fields["comment"].label = "Note: how the progression is being managed"
