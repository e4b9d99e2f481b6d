#!/usr/bin/env bash
# Command 1: run the product on this machine. Web (runserver), a Celery worker and Celery beat
# run in the foreground under honcho; Ctrl-C stops all three.
# Needs no database or broker server: with DATABASE_URL/REDIS_URL unset the local settings use
# SQLite and kombu's filesystem transport under var/. If they are set, they are used as given.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export DJANGO_SETTINGS_MODULE=surveillance.settings.local
mkdir -p var

# Say which database and broker this run uses (host and port only: never a password).
describe_url() {
    python - "$1" <<'PY'
import sys
from urllib.parse import urlsplit

u = urlsplit(sys.argv[1])
print(f"{u.scheme}://{u.hostname or 'socket'}{':' + str(u.port) if u.port else ''}{u.path}")
PY
}
if [[ -n "${DATABASE_URL:-}" ]]; then
    echo "==> database: $(describe_url "$DATABASE_URL") (from DATABASE_URL)"
else
    echo "==> database: SQLite at var/surveillance.sqlite3"
fi
if [[ -n "${CELERY_BROKER_URL:-${REDIS_URL:-}}" ]]; then
    echo "==> broker: $(describe_url "${CELERY_BROKER_URL:-$REDIS_URL}") (from the environment)"
else
    echo "==> broker: kombu filesystem transport under var/broker"
fi

python manage.py migrate --noinput
# Demo users (one per role) and a synthetic cohort, only into an empty database; prints logins.
python manage.py seed_demo --if-empty

echo
echo "==> Open http://127.0.0.1:8000 (Ctrl-C stops web, worker and beat)"
echo
# exec: honcho becomes this process, so Ctrl-C reaches it directly; it stops every child.
exec honcho start -f Procfile
