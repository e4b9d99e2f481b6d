"""Least privilege in PostgreSQL: what the application's own database role may do.

Two roles (docker-compose.yml and scripts/test.sh create them):

- the **owner** owns the schema and every table; `migrate` runs as it (DATABASE_URL of the
  one-off migrate step);
- the **app role** (settings.DATABASE_APP_ROLE) is what web, worker and beat connect as. It
  owns nothing, so it cannot ALTER or DROP a table, nor disable a trigger; it is no superuser,
  so it cannot set `session_replication_role` (which would skip the audit trigger). It gets
  SELECT/INSERT/UPDATE/DELETE on the tables and the sequences it needs, and on the audit
  table only SELECT and INSERT: no UPDATE, DELETE, TRUNCATE, REFERENCES or TRIGGER.

`app_role_grant` runs after every `migrate` (post_migrate, see audit.apps), so tables added
by later migrations are covered too. It is idempotent.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLE = "audit_auditevent"


def app_role_grant_statements(role: str, *, quote) -> list[str]:
    r = quote(role)
    return [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        # The audit trail is append-only for the application, in grants as well as by trigger.
        f"REVOKE ALL ON {AUDIT_TABLE} FROM {r}",
        f"GRANT SELECT, INSERT ON {AUDIT_TABLE} TO {r}",
    ]


def app_role_grant(connection: BaseDatabaseWrapper, role: str) -> None:
    """Give `role` the application's privileges on the connection's database (PostgreSQL)."""
    if connection.vendor != "postgresql" or not role:
        return
    from django.db import transaction

    quote = connection.ops.quote_name
    # One transaction: other sessions never see the audit table between REVOKE and GRANT.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise RuntimeError(f"DATABASE_APP_ROLE {role!r} does not exist in the database.")
        for statement in app_role_grant_statements(role, quote=quote):
            cursor.execute(statement)


def grant_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate receiver: re-grant the app role after the schema changed."""
    from django.conf import settings
    from django.db import connections

    role = getattr(settings, "DATABASE_APP_ROLE", "")
    if role:
        app_role_grant(connections[using], role)
