#!/usr/bin/env bash
# Every check of `make test`. Parts that need PostgreSQL or Chromium run when
# they are available, and are required with REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=config.settings.test
failed=()
skipped=()

step() {  # step NAME COMMAND...
  local name=$1; shift
  echo "==> $name"
  "$@"
  local rc=$?
  if [ $rc -ne 0 ]; then
    # pytest exits 5 when it collected no test: that is a failure here.
    [ $rc -eq 5 ] && echo "    (no tests were collected)"
    failed+=("$name (exit $rc)")
  fi
}

step "ruff check" $BIN/ruff check .
step "ruff format --check" $BIN/ruff format --check .
step "mypy" $BIN/mypy .
step "manage.py check" $BIN/python manage.py check --fail-level WARNING
step "makemigrations --check" $BIN/python manage.py makemigrations --check --dry-run
step "OpenAPI schema" $BIN/python manage.py spectacular --validate --fail-on-warn --file /dev/null
step "tests on SQLite" $BIN/pytest -m "not browser" -p no:cacheprovider -q

if [ "${ONLY:-}" != "sqlite" ]; then
  PG_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/gremio}
  if $BIN/python -c "import psycopg,sys; psycopg.connect('${PG_URL}', connect_timeout=3).close()" 2>/dev/null \
     || $BIN/python -c "import psycopg,sys; u='${PG_URL}'.rsplit('/',1)[0]+'/postgres'; psycopg.connect(u, connect_timeout=3).close()" 2>/dev/null; then
    DATABASE_URL=$PG_URL step "tests on PostgreSQL" $BIN/pytest -m "not browser" -p no:cacheprovider -q
  elif [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "PostgreSQL is required (REQUIRE_POSTGRES=1) but does not answer at ${PG_URL}"
    failed+=("tests on PostgreSQL (not reachable)")
  else
    skipped+=("tests on PostgreSQL: no PostgreSQL answers at ${PG_URL} (set POSTGRES_URL)")
  fi

  CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
  if [ -x "$CHROMIUM" ]; then
    CHROMIUM=$CHROMIUM step "browser tests" $BIN/pytest -m browser -p no:cacheprovider -q
  elif [ "${REQUIRE_BROWSER:-0}" = "1" ]; then
    echo "Chromium is required (REQUIRE_BROWSER=1) but $CHROMIUM is missing (apt-get install chromium)"
    failed+=("browser tests (no Chromium)")
  else
    skipped+=("browser tests: $CHROMIUM not found (apt-get install chromium)")
  fi
fi

echo
for s in "${skipped[@]}"; do echo "NOT RUN: $s"; done
if [ ${#failed[@]} -gt 0 ]; then
  for f in "${failed[@]}"; do echo "FAILED: $f"; done
  exit 1
fi
echo "All checks passed."
