"""Any value the validator accepts is stored without a database error (issue 11 §4, 12 §7).

Hypothesis throws values at every report and variant field (numbers past their columns,
tiny fractions, long texts, every chromosome and build form); whenever the validator says
the report is clean, storing it must succeed. Each example is rolled back.
"""

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liquidbiopsy.models import VariantCall
from liquidbiopsy.services import report_ingest
from liquidbiopsy.validation import validate_report
from tests.builders import payload

TODAY = dt.date(2026, 11, 24)


class _Rollback(Exception):
    pass


def texts(max_size, min_size=0):
    return st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)), min_size=min_size, max_size=max_size
    )


# Values near every bound, mostly inside: the point is what the validator accepts.
fractions = st.one_of(
    st.floats(min_value=0, max_value=1, allow_subnormal=True),
    st.decimals(min_value=0, max_value=1, places=14).map(str),
    st.sampled_from([1e-10, 5e-11, 1.5e-10, 0.99999999999, 1, "1e-10", "0.00000000005"]),
)
percents = st.one_of(
    st.floats(min_value=0, max_value=100, allow_subnormal=True),
    st.decimals(min_value=0, max_value=100, places=12).map(str),
    st.sampled_from([1e-8, 5e-9, 99.999999999999, 100, "1e-8"]),
)
ints = st.one_of(
    st.integers(min_value=0, max_value=2**31 + 2),
    st.sampled_from([2**31 - 1, 2**31, 2**63, 249_250_621, 249_250_622]),
    st.integers(min_value=0, max_value=2**31 + 2).map(str),
)
chroms = st.sampled_from(
    ["6", "chr6", "CHR6", "Chr6", "NC_000006.12", "NC_000006.11", "chrX", "MT", "chrM", "chr22"]
)
builds = st.sampled_from(["GRCh38", "hg19", "GRCh37", "hg38", "b37", "grch38.p14"])
alleles = st.one_of(
    st.text(alphabet="ACGTNacgtn", min_size=1, max_size=202), st.sampled_from(["A", "G"])
)
hgvs = st.sampled_from(
    [
        "p.Asp538Gly",
        "NP_000116.2:p.(Asp538Gly)",
        "p.K23_L24insRSQWVKLPRSTVWYACDEFGHIKLMNPQRSTVWYACDEFGHIKLMNPQRSTVWY",
        "p.?",
        "p.Arg213GlnfsTer34",
        "p.[Ser73Arg;Asn116Ser;Asn117Ser;Asn118Ser;Asn119Ser;Asn120Ser;Asn121Ser;Asn122Ser]",
        "ENSP00000206249.3:p.Tyr537Ser",
    ]
)
position = st.fixed_dictionaries(
    {"genome_build": builds, "chrom": chroms, "pos": ints, "ref": alleles, "alt": alleles}
)
variants = st.builds(
    lambda base, where, fraction: {**base, **where, **fraction},
    st.fixed_dictionaries(
        {"gene": st.one_of(st.just("ESR1"), texts(34, min_size=1))},
        optional={
            "hgvs_p": hgvs,
            "hgvs_c": texts(102),
            "transcript": texts(34),
            "depth": ints,
            "filter": texts(258),
        },
    ),
    st.one_of(position, st.fixed_dictionaries({"hgvs_p": hgvs})),
    st.one_of(
        st.fixed_dictionaries({"vaf": fractions}),
        st.fixed_dictionaries({"vaf_percent": percents}),
    ),
)
reports = st.fixed_dictionaries(
    {
        "report_id": texts(66, min_size=1),
        "version": ints,
        "assay": texts(102, min_size=1),
        "variants": st.lists(variants, max_size=3, unique_by=lambda v: v.get("alt", "")),
    },
    optional={"tumor_fraction": fractions, "tumor_fraction_percent": percents},
)


@pytest.mark.django_db
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=reports)
def test_anything_the_validator_accepts_is_stored_without_a_database_error(
    collected, lab_user, changes
):
    body = payload(**changes)
    clean, errors = validate_report(body, today=TODAY)
    if errors:
        return
    try:
        with transaction.atomic():
            result = report_ingest(payload=body, lab_account=lab_user, today=TODAY)
            assert result.created
            stored = list(VariantCall.objects.filter(report=result.report))
            assert len(stored) == len(clean.variants)
            for call in stored:
                assert 0 < call.vaf <= 1
            raise _Rollback
    except _Rollback:
        pass


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 2**31}, "version"),
        ({"version": int("9" * 4000)}, "version"),
        ({"report_id": "R" * 65}, "report_id"),
        ({"assay": "A" * 101}, "assay"),
        ({"tumor_fraction": 1e-11}, "tumor_fraction"),
        ({"variants": [{**payload()["variants"][0], "depth": 2**31}]}, "variants[0].depth"),
        ({"variants": [{**payload()["variants"][0], "pos": 2**63}]}, "variants[0].pos"),
        (
            {"variants": [{**payload()["variants"][0], "vaf_percent": None, "vaf": 1e-11}]},
            "variants[0].vaf",
        ),
        (
            {"variants": [{**payload()["variants"][0], "vaf_percent": "1e-9"}]},
            "variants[0].vaf_percent",
        ),
        ({"variants": [{**payload()["variants"][0], "ref": "A" * 201}]}, "variants[0].ref"),
        ({"variants": [{**payload()["variants"][0], "filter": "F" * 256}]}, "variants[0].filter"),
        ({"variants": [{**payload()["variants"][0], "gene": "G" * 33}]}, "variants[0].gene"),
    ],
)
def test_values_past_their_column_are_400_naming_the_field(lab_token_api, collected, change, field):
    response = lab_token_api.post("/api/v1/reports/", payload(**change), format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
