"""The formulary is data: the combinations it allows and the messages it gives."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from patients.formulary import get_formulary


def test_ai_with_cdk46_inhibitor_is_allowed():
    f = get_formulary()
    assert (
        f.combination_errors(
            endocrine_agent="letrozole", cdk46_inhibitor="ribociclib", lhrh_agonist="goserelin"
        )
        == {}
    )
    assert f.is_aromatase_inhibitor("exemestane")
    assert not f.is_aromatase_inhibitor("camizestrant")
    assert f.switch_target == "camizestrant"


def test_ai_without_cdk46_inhibitor_names_the_field():
    errors = get_formulary().combination_errors(
        endocrine_agent="anastrozole", cdk46_inhibitor="", lhrh_agonist=""
    )
    assert errors == {"cdk46_inhibitor": "Anastrozole must be combined with a CDK4/6 inhibitor."}


def test_unknown_codes_name_each_field():
    errors = get_formulary().combination_errors(
        endocrine_agent="tamoxifen", cdk46_inhibitor="olaparib", lhrh_agonist="xyz"
    )
    assert set(errors) == {"endocrine_agent", "cdk46_inhibitor", "lhrh_agonist"}
    assert "tamoxifen" in errors["endocrine_agent"]


def test_fulvestrant_alone_is_allowed():
    assert (
        get_formulary().combination_errors(
            endocrine_agent="fulvestrant", cdk46_inhibitor="", lhrh_agonist=""
        )
        == {}
    )


def test_a_broken_formulary_file_fails_at_load(tmp_path, settings):
    bad = {
        "endocrine_agents": {
            "letrozole": {"label": "Letrozole", "cdk46_inhibitors": ["nonexistent"]}
        },
        "cdk46_inhibitors": {},
        "switch_target": {"endocrine_agent": "letrozole"},
    }
    path = tmp_path / "formulary.json"
    path.write_text(json.dumps(bad))
    settings.FORMULARY_PATH = path
    get_formulary.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="unknown CDK4/6"):
            get_formulary()
    finally:
        get_formulary.cache_clear()
