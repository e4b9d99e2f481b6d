from __future__ import annotations

from django import forms

from therapy.models import Alert
from therapy.reasons import ReasonCode

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # ISO, as type=date needs


class AcknowledgeForm(forms.Form):
    # The actions, as the oncologist reads them (the model's labels describe recorded outcomes).
    ACTIONS = (
        (Alert.Decision.SWITCH, "Switch"),
        (Alert.Decision.DEFER, "Defer"),
        (Alert.Decision.DECLINE, "Decline"),
        (Alert.Decision.ACKNOWLEDGE, "Acknowledge: managed on the progression pathway"),
    )
    decision = forms.ChoiceField(choices=ACTIONS, widget=forms.RadioSelect)
    effective_on = forms.DateField(label="Switch takes effect on", required=False, widget=DATE)
    scan_performed_on = forms.DateField(
        label="Confirmatory scan (no progression) on", required=False, widget=DATE
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
    defer_until = forms.DateField(label="Defer until", required=False, widget=DATE)
    reason_code = forms.ChoiceField(
        label="Reason (defer or decline)", required=False, choices=[("", "—"), *ReasonCode.choices]
    )
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    # The alert's revision when the page was drawn: a decision on a changed alert is refused.
    revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
