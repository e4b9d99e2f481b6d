"""core.db.pg_array: one array literal that PostgreSQL reads back exactly as sent."""

import datetime as dt

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from core.db import pg_array

pytestmark = pytest.mark.django_db


def _roundtrip(values, type_):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{type_}[]", [pg_array(values)])
        return cursor.fetchone()[0]


def test_text_with_every_character_that_array_syntax_uses():
    values = ['a"b', "back\\slash", "{braces}", "comma,here", "NULL", "", " spaced ", None, "é"]
    assert _roundtrip(values, "text") == values


def test_numbers_dates_booleans_and_nulls():
    assert _roundtrip([1, None, 2**40], "bigint") == [1, None, 2**40]
    days = [dt.date(2026, 1, 2), None, dt.date(1999, 12, 31)]
    assert _roundtrip(days, "date") == days
    assert _roundtrip([True, False, None], "bool") == [True, False, None]


def test_empty():
    assert _roundtrip([], "bigint") == []


def _reference(values) -> str:
    """The element-by-element form the fast paths must equal."""
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, str):
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            parts.append(str(value))
    return "{" + ",".join(parts) + "}"


@given(
    st.one_of(
        st.lists(st.integers()),
        st.lists(st.text()),
        st.lists(st.one_of(st.none(), st.text(), st.integers(), st.booleans(), st.dates())),
    )
)
def test_fast_paths_equal_the_element_by_element_literal(values):
    assert pg_array(values) == _reference(values)
    assert pg_array(iter(values)) == _reference(values)
