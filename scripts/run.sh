#!/usr/bin/env bash
# Command 1: run the product on this machine. Web (runserver), a Celery worker and Celery beat
# run under honcho; Ctrl-C stops all three.
# Needs no database or broker server: with DATABASE_URL/REDIS_URL unset the local settings use
# SQLite and kombu's filesystem transport under var/. If they are set, they are used as given.
#
#   PORT=8001 bash scripts/run.sh      # another port (default 8000)
#
# Only the runtime requirements are installed (requirements.txt): the test tooling
# (requirements-dev.txt: Playwright, hypothesis, ...) is scripts/test.sh's business.
# The worker's and beat's output, e-mails included (the console mail backend prints them),
# goes to var/log/ so the demo logins, printed last, stay on screen.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

PORT="${PORT:-8000}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
    echo "PORT must be a number from 1 to 65535 (got '$PORT')." >&2
    exit 2
fi

if [[ ! -x .venv/bin/python ]]; then
    if command -v python3.11 >/dev/null 2>&1; then _py=python3.11; else _py=python3; fi
    echo "==> creating .venv with $_py ($("$_py" --version 2>&1))" >&2
    "$_py" -m venv .venv
fi
# Reinstall only when the runtime pins changed (the stamp is written after pip succeeded).
_stamp=.venv/.runtime-requirements.sha256
_hash="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [[ "$(cat "$_stamp" 2>/dev/null || true)" != "$_hash" ]]; then
    echo "==> installing requirements.txt into .venv (runtime only)" >&2
    .venv/bin/python -m pip install -q -r requirements.txt
    printf '%s\n' "$_hash" >"$_stamp"
fi
export VIRTUAL_ENV="$REPO_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"

export DJANGO_SETTINGS_MODULE=surveillance.settings.local
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
mkdir -p var/log

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
# Demo users (one per role) and a synthetic cohort, only into an empty database. Its output
# (the logins) is kept and printed again once the servers are up.
logins="$(python manage.py seed_demo --if-empty 2>&1 | tee var/log/seed.log)"

# The Procfile's commands, with this run's port and the worker/beat output sent to var/log/.
procfile=var/Procfile.run
sed -e "s/127\.0\.0\.1:8000/127.0.0.1:$PORT/" \
    -e '/^worker:/s|$| >>var/log/worker.log 2>\&1|' \
    -e '/^beat:/s|$| >>var/log/beat.log 2>\&1|' Procfile >"$procfile"

honcho start -f "$procfile" &
honcho_pid=$!
trap 'kill -TERM "$honcho_pid" 2>/dev/null || true' INT TERM

# Wait for the web server (at most 60 s), then print the logins last.
for _ in $(seq 1 120); do
    if python - "$PORT" <<'PY' 2>/dev/null; then break; fi
import sys
import urllib.request

urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/accounts/login/", timeout=1)
PY
    kill -0 "$honcho_pid" 2>/dev/null || break
    sleep 0.5
done
cat <<EOF

==> Worker and beat output (demo e-mails included): var/log/worker.log, var/log/beat.log
$(printf '%s\n' "$logins" | grep -v '^$')

==> Open http://127.0.0.1:$PORT (Ctrl-C stops web, worker and beat)

EOF
set +e
wait "$honcho_pid"
status=$?
# A second wait: after Ctrl-C the first returns at once while honcho is still stopping.
wait "$honcho_pid" 2>/dev/null
exit $status
