# ruff: noqa: S608  (table names are module constants, not input)
"""Least privilege (issue 12 item 4): the application's database role cannot rewrite history.

The app role (DATABASE_APP_ROLE; scripts/test.sh and docker-compose.yml create it, and every
`migrate`, run as the owner, grants it) connects for real here, over its own connection to
the test database, and every way of destroying or bypassing the audit trail is refused by
PostgreSQL itself; the application's own work still runs as that role.

Without DATABASE_APP_URL (a developer's database as a superuser), the module makes a role of
its own and grants it with the same code the migrate hook runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote, unquote, urlsplit

import psycopg2
import pytest
from django.db import connection
from psycopg2 import errors

from audit.privileges import AUDIT_TABLE, app_role_grant
from tests.utils import child_env


@pytest.fixture(scope="module")
def app_role(django_db_setup, django_db_blocker):
    """(role, connection kwargs) of the app role on the test database."""
    with django_db_blocker.unblock():
        s = connection.settings_dict
        kwargs = {"dbname": s["NAME"], "host": s["HOST"] or "localhost", "port": s["PORT"] or 5432}
        url = os.environ.get("DATABASE_APP_URL", "")
        if url:
            parts = urlsplit(url)
            role = unquote(parts.username or "")
            kwargs.update(host=parts.hostname or kwargs["host"], port=parts.port or kwargs["port"])
            kwargs.update(user=role, password=unquote(parts.password or ""))
            return role, kwargs
        role = f"{s['NAME']}_app"[:63]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            )
            if not cursor.fetchone()[0]:
                pytest.skip("set DATABASE_APP_URL (scripts/test.sh does) to test the app role")
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE ROLE {connection.ops.quote_name(role)} LOGIN")
        app_role_grant(connection, role)
        kwargs.update(user=role, password=s.get("PASSWORD") or None)
        return role, kwargs


@pytest.fixture
def app_db(app_role):
    conn = psycopg2.connect(**app_role[1])
    conn.autocommit = True
    yield conn
    conn.close()


def _refused(conn, sql: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege), conn.cursor() as cursor:
        cursor.execute(sql)


INSERT = (
    f"INSERT INTO {AUDIT_TABLE} (at, actor_label, channel, action, object_type, object_id, "
    "detail) VALUES (now(), 'app-role-test', 'task', 'test.insert', '', '', '{}') RETURNING id"
)


@pytest.mark.django_db(transaction=True)
def test_app_role_may_only_insert_and_read_the_audit_trail(app_db):
    with app_db.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False)
        cursor.execute(INSERT)
        event_id = cursor.fetchone()[0]
        cursor.execute(f"SELECT action FROM {AUDIT_TABLE} WHERE id = %s", [event_id])
        assert cursor.fetchone() == ("test.insert",)
    for sql in (
        f"TRUNCATE {AUDIT_TABLE}",
        f"UPDATE {AUDIT_TABLE} SET action = 'tampered' WHERE id = {event_id}",
        f"DELETE FROM {AUDIT_TABLE} WHERE id = {event_id}",
        f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER audit_event_no_update",
        f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER ALL",
        f"DROP TRIGGER audit_event_no_update ON {AUDIT_TABLE}",
        f"ALTER TABLE {AUDIT_TABLE} ADD COLUMN note text",
        f"ALTER TABLE {AUDIT_TABLE} RENAME TO audit_old",
        f"DROP TABLE {AUDIT_TABLE}",
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER sneak BEFORE INSERT ON {AUDIT_TABLE} FOR EACH ROW "
        "EXECUTE FUNCTION audit_event_append_only()",
        "SET session_replication_role = replica",
        "CREATE TABLE public.shadow (id int)",
    ):
        _refused(app_db, sql)
    with app_db.cursor() as cursor:
        cursor.execute(f"SELECT action FROM {AUDIT_TABLE} WHERE id = %s", [event_id])
        assert cursor.fetchone() == ("test.insert",)  # still there, unchanged


@pytest.mark.django_db(transaction=True)
def test_app_role_owns_nothing_and_has_no_destructive_grant_anywhere(app_role):
    """Every table: not the app role's, no TRUNCATE/TRIGGER/REFERENCES for it; DML on every
    table but the audit trail, where it has SELECT and INSERT only."""
    role = app_role[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, tableowner = %s, "
            "has_table_privilege(%s, quote_ident(tablename), 'SELECT'), "
            "has_table_privilege(%s, quote_ident(tablename), 'INSERT'), "
            "has_table_privilege(%s, quote_ident(tablename), 'UPDATE'), "
            "has_table_privilege(%s, quote_ident(tablename), 'DELETE'), "
            "has_table_privilege(%s, quote_ident(tablename), 'TRUNCATE'), "
            "has_table_privilege(%s, quote_ident(tablename), 'TRIGGER'), "
            "has_table_privilege(%s, quote_ident(tablename), 'REFERENCES') "
            "FROM pg_tables WHERE schemaname = 'public'",
            [role] * 8,
        )
        tables = {name: rest for name, *rest in cursor.fetchall()}
    assert AUDIT_TABLE in tables
    assert len(tables) > 20
    for name, (owned, select, insert, update, delete, truncate, trigger, refs) in tables.items():
        assert not owned, name
        assert (truncate, trigger, refs) == (False, False, False), name
        assert (select, insert) == (True, True), name
        expected = name != AUDIT_TABLE
        assert (update, delete) == (expected, expected), name


@pytest.mark.django_db(transaction=True)
def test_the_application_works_as_the_app_role(app_role):
    """Real work as the app role, in child processes: creating a user (users, groups, audit)
    and issuing a token (knox, audit) need nothing the role lacks."""
    role, kwargs = app_role
    auth = quote(role) + (":" + quote(kwargs["password"]) if kwargs.get("password") else "")
    url = f"postgres://{auth}@{kwargs['host']}:{kwargs['port']}/{kwargs['dbname']}"
    env = child_env(DATABASE_URL=url)
    created = subprocess.run(
        [sys.executable, "manage.py", "add_user", "app_role_lab", "--role", "lab"],
        input="app-role-secret-pw\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    token = subprocess.run(
        [sys.executable, "manage.py", "issue_api_token", "app_role_lab"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert token.returncode == 0, token.stderr
    assert len(token.stdout.strip()) == 64
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT action, channel FROM {AUDIT_TABLE} WHERE action IN "
            "('user.create', 'api_token.issue') ORDER BY id"
        )
        assert cursor.fetchall() == [("user.create", "cli"), ("api_token.issue", "cli")]
