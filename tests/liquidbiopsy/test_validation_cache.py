"""The validator checks what a call names (gene, protein change, position, filter, ...) once
per distinct value in a file (liquidbiopsy.validation._identity_cached). The cache must never
answer for a different input: 1, 1.0, True and "1" differ; absent and null read alike."""

from hypothesis import given, settings
from hypothesis import strategies as st

from liquidbiopsy.validation import _IDENTITY_FIELDS, _identity, _identity_cached, _identity_key

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "ESR1",
            "p.D538G",
            "p.Asp538Gly",
            "GRCh38",
            "hg19",
            "chr6",
            "6",
            "A",
            "G",
            "152098791",
            "PASS",
            ".",
            "NM_000125.4",
            "c.1613A>G",
            "0",
            "1",
            "1.0",
        ]
    ),
)
variants = st.dictionaries(st.sampled_from(_IDENTITY_FIELDS), scalars)


@settings(max_examples=400, deadline=None)
@given(st.lists(variants, min_size=1, max_size=6))
def test_the_cached_check_of_a_call_is_the_uncached_one(calls):
    for raw in calls:
        key = _identity_key(raw)
        if key is not None:
            assert _identity_cached(key) == _identity(raw), raw


@given(st.sampled_from(_IDENTITY_FIELDS))
def test_values_equal_in_python_but_different_in_json_are_different_keys(field):
    keys = {_identity_key({field: value}) for value in (1, 1.0, True, "1")}
    assert len(keys) == 4
    assert _identity_key({field: None}) == _identity_key({})


def test_large_values_are_checked_uncached():
    assert _identity_key({"gene": "G" * 2000}) is None
    assert _identity_key({"pos": 10**4000}) is None  # bounded by its size in memory
    assert _identity_key({"gene": ["ESR1"]}) is None
