# shellcheck shell=bash
# Sourced by scripts/run.sh and scripts/test.sh (and the Makefile's lint target): moves to the
# repository root and makes sure .venv exists and holds requirements-dev.txt, so every command
# works on a fresh clone with nothing but Python installed. Not meant to be executed directly.
set -euo pipefail

# The repository root is the parent of this file's folder, wherever the caller stands.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# Playwright is installed from PyPI but must never fetch a browser of its own (the machine's
# network allows none); the browser tests use Debian's /usr/bin/chromium instead.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ ! -x .venv/bin/python ]]; then
    # The project targets Python 3.11 (pyproject: requires-python); python3 is a fallback for
    # a machine without a python3.11 command, and pip will say so if it is the wrong version.
    if command -v python3.11 >/dev/null 2>&1; then
        _py=python3.11
    else
        _py=python3
    fi
    echo "==> creating .venv with $_py ($("$_py" --version 2>&1))" >&2
    "$_py" -m venv .venv
    unset _py
fi

# Reinstall only when the pins changed: the stamp holds a sha256 of both requirements files
# and is written only after pip succeeded, so a failed install is retried on the next run.
_req_stamp=.venv/.requirements.sha256
_req_hash="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$_req_stamp" 2>/dev/null || true)" != "$_req_hash" ]]; then
    echo "==> installing requirements-dev.txt into .venv" >&2
    # -q hides progress but pip still prints warnings and errors (the machine's pip config
    # names local find-links folders that may warn; those are harmless and left visible).
    .venv/bin/python -m pip install -q -r requirements-dev.txt
    printf '%s\n' "$_req_hash" >"$_req_stamp"
fi
unset _req_stamp _req_hash

# Put the venv first on PATH instead of sourcing bin/activate (which is not set -u safe).
export VIRTUAL_ENV="$REPO_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
