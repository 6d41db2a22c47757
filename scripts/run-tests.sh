#!/usr/bin/env bash
# The suite on SQLite, then again on PostgreSQL when one is reachable.
# REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1 (set by .ci/run) turn a skip into a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"

if [ -z "${CHROMIUM_PATH:-}" ]; then
  CHROMIUM_PATH="$(command -v chromium || command -v chromium-browser || true)"
fi
export CHROMIUM_PATH
if [ -z "$CHROMIUM_PATH" ]; then
  echo "skipped: browser tests (no chromium found; install Debian's 'chromium' package)"
  if [ "${REQUIRE_BROWSER:-0}" = 1 ]; then
    echo "error: REQUIRE_BROWSER=1 but no chromium found" >&2
    exit 1
  fi
fi

# Programs nobody on this project wrote read what the app writes: Mozilla's
# ical.js (calendar files) and the Nu Html Checker (pages). They come from npm.
if command -v npm >/dev/null 2>&1; then
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --silent || { echo "error: npm ci failed" >&2; exit 1; }
  fi
else
  echo "skipped: calendar checks with ical.js and page checks with the Nu Html Checker (no npm; install Debian's 'nodejs' and 'npm')"
  if [ "${REQUIRE_NODE:-0}" = 1 ]; then
    echo "error: REQUIRE_NODE=1 but npm was not found" >&2
    exit 1
  fi
fi

# Two xdist workers, each with a database of its own (see tests/conftest.py);
# tests marked xdist_group("serial") run one after another on one worker.
PARALLEL=(-n "${TEST_WORKERS:-2}" --dist loadgroup)
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
TIMES=()

# Runs pytest, keeps its output for the closing line, and notes the time as "NAME: M min S s".
timed_pytest() {
  local name="$1"; shift
  local started=$SECONDS
  "$@" | tee "$LOG"
  local status=${PIPESTATUS[0]}
  local took=$((SECONDS - started))
  TIMES+=("$name: $((took / 60)) min $((took % 60)) s")
  return "$status"
}

# The time per database, then pytest's closing line again: CI reads the last line.
summary() {
  local line="" entry
  for entry in "${TIMES[@]}"; do line+="${line:+, }$entry"; done
  echo "== time per database: $line"
  tail -n 1 "$LOG"
}

echo "== test suite on SQLite"
timed_pytest SQLite env -u TEST_DATABASE_URL "$BIN/pytest" "${PARALLEL[@]}" "$@" || { status=$?; summary; exit $status; }

if "$BIN/python" scripts/postgres-ready.py "$PG_URL"; then
  echo "== test suite on PostgreSQL ($PG_URL)"
  TEST_DATABASE_URL="$PG_URL" timed_pytest PostgreSQL "$BIN/pytest" "${PARALLEL[@]}" "$@" || { status=$?; summary; exit $status; }
else
  echo "skipped: no PostgreSQL at $PG_URL (set TEST_POSTGRES_URL to run the suite on PostgreSQL)"
  if [ "${REQUIRE_POSTGRES:-0}" = 1 ]; then
    echo "error: REQUIRE_POSTGRES=1 but PostgreSQL was not reachable" >&2
    exit 1
  fi
fi
summary
