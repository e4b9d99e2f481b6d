"""core.db.pg_array: one array literal that PostgreSQL reads back exactly as sent."""

import datetime as dt

import pytest
from django.db import connection

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
