#!/usr/bin/env bash
# The API contract as a test (issue 17): schemathesis against the running app on PostgreSQL.
#
# A fresh database (demo data, an administrator and an API token), the app served without autoreload on
# a free port, identifiers of real objects handed to schemathesis as dictionaries (scripts/api_fuzz_seed.py),
# then every operation of /api/v1/openapi.json fuzzed with the checks and exclusions of schemathesis.toml.
# Prints the figures and exits non-zero on any failure or error.
#
#   scripts/api_fuzz.sh                                   # what CI runs (make fuzz)
#   FUZZ_DB=oms_fuzz_me FUZZ_REUSE=1 scripts/api_fuzz.sh --include-path /api/v1/orders
#
# Environment: FUZZ_DB (database name, default oms_ci_fuzz), FUZZ_PG (server URL without the database,
# default postgres://postgres@127.0.0.1:5432), FUZZ_MAX_EXAMPLES (per operation and phase, default 10),
# FUZZ_WORKERS (default 1), FUZZ_PHASES (default examples,coverage,fuzzing), FUZZ_SEED (a schemathesis seed, to replay a run), FUZZ_REUSE=1 (keep the
# database when it exists: for developing against single operations; CI always starts afresh).
# Further arguments go to `schemathesis run` (e.g. --include-path, --phases).
set -euo pipefail
cd "$(dirname "$0")/.."

PG="${FUZZ_PG:-postgres://postgres@127.0.0.1:5432}"
DB="${FUZZ_DB:-oms_ci_fuzz}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-10}"
WORKERS="${FUZZ_WORKERS:-1}"
PHASES="${FUZZ_PHASES:-examples,coverage,fuzzing}"
OUT="var/api-fuzz"
UV="$(command -v uv || echo "$PWD/.tools/bin/uv")"
export DATABASE_URL="$PG/$DB"
export DJANGO_SETTINGS_MODULE=config.settings.dev
start=$(date +%s)
say() { printf 'api-fuzz (%ss): %s\n' "$(( $(date +%s) - start ))" "$*"; }

mkdir -p "$OUT"
case "$DB" in oms_ci_fuzz | oms_fuzz_*) ;; *) echo "FUZZ_DB must be oms_ci_fuzz or oms_fuzz_<suffix>" >&2; exit 2 ;; esac

if [ "${FUZZ_REUSE:-0}" = 1 ] && [ -s "$OUT/$DB.token" ] \
  && psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  say "reusing database $DB"
else
  say "creating database $DB"
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" 2>&1 | grep -v NOTICE || true
  "$UV" run --frozen oms setup >"$OUT/setup.log" 2>&1
  "$UV" run --frozen oms demo-data >>"$OUT/setup.log" 2>&1
  "$UV" run --frozen oms create-admin --username fuzz --password "fuzz-$(date +%s%N)" >>"$OUT/setup.log" 2>&1
  "$UV" run --frozen oms token create fuzz api-fuzz | tail -1 >"$OUT/$DB.token"
fi
TOKEN="$(cat "$OUT/$DB.token")"

PORT="$("$UV" run --frozen python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
# No autoreload (other checkouts' changes must not restart it mid-run); its own process group, so that
# stopping it stops the server and nothing else.
# Production settings (no debug pages or query log), over plain HTTP on the loopback.
SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false \
  DJANGO_SETTINGS_MODULE=config.settings.prod setsid "$UV" run --frozen oms serve --noreload "127.0.0.1:$PORT" \
  >"$OUT/server.log" 2>&1 &
SERVER=$!
stop() { kill -- "-$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 120); do
  curl -fso /dev/null "$BASE/api/v1/openapi.json" && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
  sleep 1
done
say "serving on $BASE"

"$UV" run --frozen python -m scripts.api_fuzz_seed "$BASE" "$TOKEN" "$OUT/schemathesis.toml"
say "seeded"

rm -rf "$OUT/report"
set +e
"$UV" run --frozen schemathesis --config-file "$OUT/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
  -H "Authorization: Bearer $TOKEN" --max-examples "$MAX_EXAMPLES" --workers "$WORKERS" --phases "$PHASES" \
  ${FUZZ_SEED:+--seed "$FUZZ_SEED"} --report json,junit --report-dir "$OUT/report" "$@" >"$OUT/schemathesis.txt" 2>&1
status=$?
set -e
tail -40 "$OUT/schemathesis.txt"
"$UV" run --frozen python -m scripts.api_fuzz_seed --figures "$OUT/report" "$OUT/server.log" || status=1
say "done, exit $status (full output: $OUT/schemathesis.txt, server log: $OUT/server.log)"
exit "$status"
