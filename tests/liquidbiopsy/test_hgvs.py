"""HGVS protein changes: every spelling of one change is one canonical form."""

import pytest

from liquidbiopsy.hgvs import normalise_protein_change


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("p.Asp538Gly", "p.Asp538Gly"),
        ("p.(Asp538Gly)", "p.Asp538Gly"),
        ("D538G", "p.Asp538Gly"),
        ("p.D538G", "p.Asp538Gly"),
        ("Asp538Gly", "p.Asp538Gly"),
        ("y537s", "p.Tyr537Ser"),
        ("p.(Tyr537Cys)", "p.Tyr537Cys"),
        ("E380Q", "p.Glu380Gln"),
        ("p.(Val422del)", "p.Val422del"),
        ("V422del", "p.Val422del"),
        ("Y537*", "p.Tyr537Ter"),
        ("p.Tyr537Ter", "p.Tyr537Ter"),
        ("  p.Leu536His  ", "p.Leu536His"),
    ],
)
def test_one_change_one_form(given, canonical):
    assert normalise_protein_change(given) == canonical


@pytest.mark.parametrize("bad", ["", "ESR1", "c.1613A>G", "p.Asp538Xyz", "B538G", "p.538G"])
def test_unreadable_changes_are_refused_with_the_value(bad):
    with pytest.raises(ValueError, match="is not an HGVS protein change"):
        normalise_protein_change(bad)
