"""PostgreSQL unavailable: a retryable 503 with Retry-After, never a 500 (issue 12 item 9).

The database being down, restarting or refusing connections surfaces as psycopg2's
OperationalError or InterfaceError, which Django wraps in django.db's classes of the same
names. Both mean "try again shortly": nothing was stored (every write is one transaction).
Django closes a connection that failed at the end of its request, and CONN_HEALTH_CHECKS
checks a persistent one before reuse, so the app reconnects by itself when PostgreSQL is back.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (
    "The service is temporarily unavailable (its database cannot be reached); nothing was "
    "stored. Try again shortly."
)


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)
