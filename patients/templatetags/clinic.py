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


@register.filter
def percent(fraction) -> str:
    """A fraction (0-1) as a percentage with enough digits to read 0.042%: '0.042%'.

    Three significant digits, never rounded to zero and never in exponent notation.
    """
    if fraction is None or fraction == "":
        return ""
    from decimal import Decimal

    value = Decimal(str(fraction)) * 100
    if value == 0:
        return "0%"
    text = f"{value:.3g}"
    if "e" in text or "E" in text:
        text = f"{value:.6f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


@register.filter
def day(value) -> str:
    """A date (or datetime, in clinic time) in the clinic's one format: '2 Dec 2026'."""
    if not value:
        return ""
    if isinstance(value, str):  # an ISO date kept in a JSON snapshot
        import datetime as dt

        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if hasattr(value, "hour"):
        from django.utils import timezone

        if timezone.is_aware(value):
            value = timezone.localtime(value)
    return f"{value.day} {value:%b %Y}"


@register.filter
def day_time(value) -> str:
    """A datetime in clinic time: '2 Dec 2026 14:05'."""
    if not value:
        return ""
    from django.utils import timezone

    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.day} {value:%b %Y %H:%M}"


@register.filter
def age_on(born, today) -> str:
    """Age in whole years on `today` (for 'born 2 Mar 1961, 65 y')."""
    if not born or not today:
        return ""
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return str(years)
