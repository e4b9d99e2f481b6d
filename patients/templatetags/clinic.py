from django import template

from patients.formulary import get_formulary

register = template.Library()


@register.filter
def drug_label(code: str) -> str:
    """A drug code as the formulary names it ('' stays '')."""
    return get_formulary().label(code) if code else ""


@register.filter
def outcome_label(value: str) -> str:
    """A scan outcome code as its label ('no_progression' -> 'No progression')."""
    from patients.models import ImagingAssessment

    try:
        return ImagingAssessment.Outcome(value).label
    except ValueError:
        return value


@register.filter
def get(mapping, key):
    """`counts|get:section` in templates."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
