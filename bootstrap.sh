#!/usr/bin/env bash
# Installs what is missing, then runs authsvc or its test suite.
#
#   ./bootstrap.sh serve [authsvc serve flags...]   start the service (embedded Redis under ./var/)
#   ./bootstrap.sh test  [pytest args...]           ruff + mypy --strict + pytest, then pytest again
#                                                   against a 3-master + 3-replica Redis Cluster
#   ./bootstrap.sh bench [bench flags...]           the passcode benchmark (loadtests/bench.py)
#   ./bootstrap.sh env                              only install; prints the venv path
#
# Works on a fresh Debian/Ubuntu with Python 3.11+; uses apt-get (as root, or through sudo) for
# redis-server, python3-venv, wrk (bench, test), valgrind (test) and chromium (test) when they
# are missing.
# Re-running is cheap: the venv is only rebuilt when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="${AUTHSVC_VENV:-$ROOT/.venv}"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "bootstrap: need root (or sudo) to run: $*" >&2; exit 1; fi
}

apt_updated=0
apt_install() {
    if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pick_python() {
    # A pyenv shim exists for versions pyenv does not have and complains on stderr when run:
    # trying a candidate is silent, only the one chosen matters.
    for py in python3.13 python3.12 python3.11 python3; do
        if command -v "$py" >/dev/null &&
                "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$py"; return; fi
    done
    apt_install python3 python3-venv
    echo python3
}

ensure_system_packages() {
    local missing=()
    command -v redis-server >/dev/null || missing+=(redis-server)
    # The suite runs the benches at a tiny scale (wrk) and the instruction count (valgrind).
    case "${1:-}" in bench|test) command -v wrk >/dev/null || missing+=(wrk) ;; esac
    [ "${1:-}" = test ] && { command -v valgrind >/dev/null || missing+=(valgrind); }
    # The browser tests drive the OS's chromium through Playwright (no browser download).
    [ "${1:-}" = test ] && { command -v chromium >/dev/null || missing+=(chromium); }
    if [ ${#missing[@]} -gt 0 ]; then
        echo "bootstrap: installing ${missing[*]} from the OS packages" >&2
        apt_install "${missing[@]}"
    fi
}

ensure_venv() {
    local py stamp want
    want=$(sha256sum pyproject.toml | cut -c1-16)
    stamp="$VENV/.authsvc-stamp"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return; fi
    py=$(pick_python)
    if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
        local ver; ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt_install "python$ver-venv" || apt_install python3-venv
    fi
    echo "bootstrap: preparing $VENV" >&2
    [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
}

cmd="${1:-serve}"; shift || true
ensure_system_packages "$cmd"
ensure_venv
export PATH="$VENV/bin:$PATH"
case "$cmd" in
    serve) exec authsvc serve "$@" ;;
    test)
        ruff check .
        mypy
        python -m pytest "$@"
        # Once more against a real 3-master + 3-replica Redis Cluster on loopback: it refuses every
        # command and script whose keys span hash slots (so one user's keys must share a slot,
        # docs/architecture.md), and the service's client must route every call to the right
        # master, as it does for operators (AUTHSVC_TEST_REDIS_CLUSTER=1: a one-node cluster).
        echo "bootstrap: the suite again, against a 3+3 Redis Cluster" >&2
        AUTHSVC_TEST_REDIS_CLUSTER=6 exec python -m pytest -q "$@" ;;
    bench) exec python -m loadtests.bench "$@" ;;
    env) echo "$VENV" ;;
    *) echo "usage: $0 serve|test|bench|env [args...]" >&2; exit 2 ;;
esac
