#!/usr/bin/env bash
# bench/compare.sh - the side-by-side benchmark of issue #12.
#
# Builds the service (release profile), generates a synthetic dataset of a given size,
# imports it (timed, peak memory), serves it, and runs the same wrk load against:
#   ours        the sanctuary-data binary, through its full middleware stack
#   nginx       nginx serving static copies of *our own* response bytes for the same
#               requests (GraphQL answers included, as plain GETs): the ceiling for
#               shipping those bytes over HTTP on this machine
#   hello       an axum "Hello, World!" (examples/axum_hello.rs): the framework ceiling
#               for /healthz
#   datasette   optional, through the shared peers harness (--peers-script): Datasette on
#               its own 5,000-row sample, the peer most users would pick
# and prints requests/s, p99 and the ratios against the targets of issue #12.
#
# Cells: page (100-row JSON page), filter (filtered 100-row page), item (one statistic),
# gql_post / gql_get (GraphQL 100-row page), healthz (vs hello-world), csv
# (/downloads/statistics.csv, the whole table), plus the cold (first after import)
# latency of each request, and of four requests timed cold only: latest (the latest
# figures, REST), facets (program and metric, unfiltered), period (a page filtered on the
# middle period) and gql_latest (the latest figures' GraphQL page).
#
# Usage:
#   bench/compare.sh                       # 6,000 rows, SQLite
#   bench/compare.sh --rows 1000000 --postgres
#   bench/compare.sh --smoke               # CI: tiny in-repo dataset, 1 s per cell, dev build
#
# Options:
#   --rows N             statistics rows to generate (default 6000; rounded up to whole
#                        families of 6 rows)
#   --dataset DIR        use this dataset directory instead of generating one
#   --dataset-script F   make_project_dataset.py (the shared benchmark generator); also
#                        $SANCTUARY_BENCH_DATASET_SCRIPT. Needed unless --dataset or --smoke.
#   --peers-script F     peers.sh (the shared side-by-side harness), for the Datasette
#                        column; also $SANCTUARY_BENCH_PEERS_SCRIPT. Skipped when not given
#                        or when Datasette is not installed (see peers.sh --help).
#   --sqlite / --postgres / --both   backends to run (default --sqlite)
#   --pg-url URL         PostgreSQL server (default $BENCH_PG_URL or
#                        postgres://postgres@127.0.0.1:5432); a fresh database is created
#                        and dropped
#   --profile P          cargo profile of the binaries (default release; dev with --smoke)
#   --no-build           use the binaries already built for the profile
#   --out DIR            logs, static copies, results.tsv (default: a new temporary dir)
#   --smoke              1 s per cell, one run, the in-repo example dataset, no Datasette;
#                        fails on any error or non-2xx answer, never on a missed target
# Environment: DURATION (s per wrk run, default 8), REPEAT (runs of every cell, default 2),
#   SLICE (s, default 1: each run is DURATION / SLICE slices that alternate ceiling and ours,
#   so a slow moment of a shared machine falls on both; a run's figure sums its slices;
#   its p99 is estimated from the slices' tails; the whole-table CSV is never sliced),
#   CONNS (connections, default 32), CSV_CONNS (default 4), THREADS (wrk threads, default 2),
#   PIN=1 (servers on CPU 1, wrk on CPU 0 with taskset).
#
# Only 127.0.0.1 is targeted. Everything started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS=6000
DATASET=""
DATASET_SCRIPT="${SANCTUARY_BENCH_DATASET_SCRIPT:-}"
PEERS_SCRIPT="${SANCTUARY_BENCH_PEERS_SCRIPT:-}"
BACKENDS="sqlite"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
PROFILE=""
BUILD=1
OUT=""
SMOKE=0

while (($#)); do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --dataset) DATASET="$2"; shift 2 ;;
    --dataset-script) DATASET_SCRIPT="$2"; shift 2 ;;
    --peers-script) PEERS_SCRIPT="$2"; shift 2 ;;
    --sqlite) BACKENDS="sqlite"; shift ;;
    --postgres) BACKENDS="postgres"; shift ;;
    --both) BACKENDS="sqlite postgres"; shift ;;
    --pg-url) PG_URL="${2%/}"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --out) OUT="$2"; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    -h | --help) awk 'NR>1 && /^#/ {sub(/^# ?/, ""); print; next} NR>1 {exit}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ((SMOKE)); then
  DURATION="${DURATION:-1}"
  REPEAT="${REPEAT:-1}"
  PROFILE="${PROFILE:-dev}"
  [[ -z "$DATASET" ]] && DATASET="$ROOT/examples/synthetic-breakdowns"
  PEERS_SCRIPT=""
fi
DURATION="${DURATION:-8}"
SLICE="${SLICE:-1}"
[[ "$SLICE" =~ ^[1-9][0-9]*$ ]] || { echo "SLICE must be a whole number of seconds, at least 1" >&2; exit 2; }
REPEAT="${REPEAT:-2}"
CONNS="${CONNS:-32}"
CSV_CONNS="${CSV_CONNS:-4}"
THREADS="${THREADS:-2}"
PIN="${PIN:-0}"
PROFILE="${PROFILE:-release}"
case "$PROFILE" in
  release) PROFILE_DIR=release ;;
  dev) PROFILE_DIR=debug ;;
  *) PROFILE_DIR="$PROFILE" ;;
esac
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/$PROFILE_DIR/sanctuary-data"
HELLO_BIN="$TARGET/$PROFILE_DIR/examples/axum_hello"

OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/sanctuary-compare.XXXXXX")}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# nginx's workers run as an unprivileged user: they must reach the static copies in here
# (mktemp makes the directory private).
chmod a+rx "$OUT"
TSV="$OUT/results.tsv"
COLD="$OUT/cold.tsv"
IMPORTS="$OUT/imports.tsv"
log() { echo "[compare] $*" >&2; }

# ------------------------------------------------------------------ processes and cleanup
STARTED=() # process group ids (each started with setsid)
PG_DBS=()
stop_group() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid db
  for pid in "${STARTED[@]}"; do stop_group "$pid"; done
  STARTED=()
  for db in "${PG_DBS[@]}"; do
    psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  PG_DBS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SRV_PIN=()
WRK_PIN=()
if [[ "$PIN" == 1 ]]; then SRV_PIN=(taskset -c 1); WRK_PIN=(taskset -c 0); fi

start_bg() { # LOGFILE CMD... -> LAST_PID
  local logf="$1"
  shift
  setsid "${SRV_PIN[@]}" "$@" >"$logf" 2>&1 </dev/null &
  LAST_PID=$!
  STARTED+=("$LAST_PID")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL PID SECONDS
  local code
  for _ in $(seq 1 $(($3 * 10))); do
    kill -0 "$2" 2>/dev/null || return 1
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true)"
    [[ "$code" == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# ------------------------------------------------------------------ tools
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is required (Debian: apt-get install $tool)" >&2; exit 1; }
done
NGINX_BIN="$(command -v nginx || true)"
[[ -z "$NGINX_BIN" && -x /usr/sbin/nginx ]] && NGINX_BIN=/usr/sbin/nginx
[[ -z "$NGINX_BIN" ]] && log "nginx is not installed (apt-get install nginx-light): no nginx column"
TIME_V=()
[[ -x /usr/bin/time ]] && TIME_V=(/usr/bin/time -v)
[[ ${#TIME_V[@]} -eq 0 ]] && log "GNU time is not installed (apt-get install time): no peak memory"
if [[ " $BACKENDS " == *" postgres "* ]]; then
  command -v psql >/dev/null || { echo "psql is required for --postgres" >&2; exit 1; }
fi

# ------------------------------------------------------------------ build
if ((BUILD)); then
  log "building sanctuary-data and examples/axum_hello ($PROFILE)"
  (cd "$ROOT" && cargo build -q --profile "$PROFILE" --bin sanctuary-data --example axum_hello)
fi
[[ -x "$BIN" ]] || { echo "no binary at $BIN (build it, or drop --no-build)" >&2; exit 1; }

# ------------------------------------------------------------------ dataset
if [[ -z "$DATASET" ]]; then
  [[ -n "$DATASET_SCRIPT" && -f "$DATASET_SCRIPT" ]] || {
    echo "give the dataset generator (make_project_dataset.py) with --dataset-script or" >&2
    echo "SANCTUARY_BENCH_DATASET_SCRIPT, or an existing dataset with --dataset" >&2
    exit 2
  }
  # Families of 6 rows (a total and two breakdowns) x 8 metrics; 25 quarters up to 6,000
  # rows, 150 quarters beyond.
  families=$(((ROWS + 5) / 6))
  if ((families <= 5 * 25 * 8)); then
    periods=25; programs=$(((families + 199) / 200))
  else
    periods=150; programs=$(((families + 1199) / 1200))
  fi
  DATASET="$OUT/dataset"
  log "generating $programs programs x $periods quarters x 8 metrics x 6 rows into $DATASET"
  python3 "$DATASET_SCRIPT" "$DATASET" --programs "$programs" --periods "$periods" --metrics 8 \
    --template "$ROOT/examples/synthetic-breakdowns" >&2
  # The generator copies the template's descriptor, whose declared breakdowns are not the
  # ones it writes: declare the dimensions and categories the statistics use.
  python3 - "$DATASET" <<'PY'
import csv, json, os, sys
out = sys.argv[1]
seen = {}
with open(os.path.join(out, "statistics.csv"), newline="") as f:
    for row in csv.DictReader(f):
        if row["dimension"] != "total":
            seen.setdefault(row["dimension"], {}).setdefault(row["category"], None)
path = os.path.join(out, "datapackage.json")
package = json.load(open(path))
package["sanctuary:dimensions"] = [
    {"name": d, "title": f"{d} (synthetic)", "categories": list(c)} for d, c in seen.items()
]
json.dump(package, open(path, "w"), indent=2)
PY
fi
DATASET="$(cd "$DATASET" && pwd)"
STAT_ROWS=$(($(wc -l <"$DATASET/statistics.csv") - 1))
log "dataset: $DATASET ($STAT_ROWS statistics rows)"

# ------------------------------------------------------------------ requests
GQL_PAGE='{ statistics(first: 100) { totalCount nodes { id program metric { id } periodStart periodEnd dimension category value suppressed unit source { id } } } }'
python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$GQL_PAGE" >"$OUT/gql_page.json"
GQL_GET="/graphql?query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$GQL_PAGE")"
# Timed cold only (not under wrk): the latest figures' first GraphQL page.
GQL_LATEST='{ latestStatistics(first: 100) { totalCount nodes { id program metric { id } periodStart periodEnd dimension category value suppressed unit source { id } } } }'
python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$GQL_LATEST" >"$OUT/gql_latest.json"

# cells: name | our request (PATH, or POST:PATH:BODYFILE) | connections; page/filter/item
# paths are completed once the first page is known.
cells() {
  cat <<EOF
page|/api/v1/statistics?limit=100|$CONNS
filter|$FILTER_PATH|$CONNS
item|$ITEM_PATH|$CONNS
gql_post|POST:/graphql:$OUT/gql_page.json|$CONNS
gql_get|$GQL_GET|$CONNS
healthz|/healthz|$CONNS
csv|/downloads/statistics.csv|$CSV_CONNS
EOF
}

curl_req() { # BASE SPEC OUTFILE -> prints "http_code time_total"
  local base="$1" spec="$2" out="$3"
  if [[ "$spec" == POST:* ]]; then
    local rest="${spec#POST:}"
    curl -s -o "$out" -w '%{http_code} %{time_total}\n' -X POST -H 'Content-Type: application/json' \
      --data-binary "@${rest#*:}" "$base${rest%%:*}"
  else
    curl -s -o "$out" -w '%{http_code} %{time_total}\n' "$base$spec"
  fi
}

wrk_lua() { # SPEC -> a wrk script path (POST body set when SPEC is a POST)
  local spec="$1" f
  f="$OUT/lua-$(echo "$spec" | md5sum | cut -c1-12).lua"
  {
    if [[ "$spec" == POST:* ]]; then
      local rest="${spec#POST:}"
      echo 'wrk.method = "POST"'
      echo 'wrk.headers["Content-Type"] = "application/json"'
      printf 'local f = assert(io.open("%s", "rb")); wrk.body = f:read("*a"); f:close()\n' "${rest#*:}"
    fi
    cat <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  -- The tail (percentile:microseconds), from which a sliced run's p99 is estimated.
  local tail = {}
  for _, p in ipairs({50, 90, 95, 98, 99, 99.5, 99.9}) do
    tail[#tail + 1] = string.format("%g:%d", p, latency:percentile(p))
  end
  tail[#tail + 1] = string.format("100:%d", latency.max)
  io.write(string.format("RESULT\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(tail, ",")))
end
EOF
  } >"$f"
  echo "$f"
}

printf 'backend\trep\tcell\tconns\tpeer\trequests\tduration_us\tbytes\tp50_us\tp99_us\tsock_errors\tnon2xx\ttail_us\tloadavg1\n' >"$TSV"
printf 'backend\tcell\tstatus\tms\n' >"$COLD"
printf 'backend\trows\tseconds\tcpu_seconds\tserver_cpu_seconds\tpeak_mb\tload\n' >"$IMPORTS"

# CPU time (clock ticks) of the local PostgreSQL server's finished backends: the postmaster's
# children's user + system time (fields 16 and 17 of /proc/PID/stat). Empty when no local
# server is found. A backend is counted once it has exited (the import's, when it disconnects).
server_cpu_ticks() {
  local pid
  pid="$(pgrep -o -x postgres 2>/dev/null || true)"
  [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 0
  awk '{sub(/^.*\) /, ""); print $14 + $15}' "/proc/$pid/stat"
}

run_wrk() { # BACKEND REP CELL CONNS PEER URL SPEC [SECONDS]
  local backend="$1" rep="$2" cell="$3" c="$4" peer="$5" base="$6" spec="$7" secs="${8:-$DURATION}" path t lua res load
  path="$spec"
  if [[ "$spec" == POST:* ]]; then path="${spec#POST:}"; path="${path%%:*}"; fi
  t=$THREADS
  ((c < t)) && t=$c
  lua="$(wrk_lua "$spec")"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  res="$("${WRK_PIN[@]}" timeout $((secs + 30)) wrk -t"$t" -c"$c" -d"${secs}s" --timeout 10s \
    -s "$lua" "$base$path" 2>&1 | grep '^RESULT' | cut -f2- || true)"
  [[ -z "$res" ]] && res=$'0\t0\t0\t0\t0\t0\t0\t-'
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$rep" "$cell" "$c" "$peer" "$res" "$load" >>"$TSV"
  log "$backend rep $rep $cell c=$c $peer: $(echo "$res" | awk -F'\t' '{d=$2/1e6; if (d>0) printf "%.0f req/s, p99 %.2f ms, errors %d/%d", $1/d, $5/1000, $6, $7}')"
}

# ------------------------------------------------------------------ peers that do not depend on the data
NG_BASE=""
if [[ -n "$NGINX_BIN" ]]; then
  NG_PORT="$(free_port)"
  mkdir -p "$OUT/static" "$OUT/nginx-tmp"
  T="$OUT/nginx-tmp"
  cat >"$OUT/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 10000000;
  keepalive_timeout 65;
  client_body_temp_path $T/body; proxy_temp_path $T/proxy; fastcgi_temp_path $T/fastcgi;
  uwsgi_temp_path $T/uwsgi; scgi_temp_path $T/scgi;
  types { application/json json; text/csv csv; }
  server {
    listen 127.0.0.1:$NG_PORT;
    root $OUT/static;
    location = /hello { default_type text/plain; return 200 "Hello, World!"; }
  }
}
EOF
  start_bg "$OUT/nginx.log" "$NGINX_BIN" -p "$OUT" -c "$OUT/nginx.conf"
  if wait_http "http://127.0.0.1:$NG_PORT/hello" "$LAST_PID" 20; then
    NG_BASE="http://127.0.0.1:$NG_PORT"
    log "nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //') on $NG_BASE"
  else
    log "nginx did not start: no nginx column"
    cat "$OUT/nginx-error.log" >&2 2>/dev/null || true
  fi
fi

HELLO_BASE=""
if [[ -x "$HELLO_BIN" ]]; then
  HELLO_PORT="$(free_port)"
  start_bg "$OUT/hello.log" "$HELLO_BIN" "127.0.0.1:$HELLO_PORT"
  if wait_http "http://127.0.0.1:$HELLO_PORT/" "$LAST_PID" 20; then
    HELLO_BASE="http://127.0.0.1:$HELLO_PORT"
    log "axum hello-world on $HELLO_BASE"
  fi
else
  log "no $HELLO_BIN (cargo build --example axum_hello): no hello-world column"
fi

# The period window of the cold `period` cell: the middle period of the dataset's
# statistics (distinct (period_start, period_end) pairs in order).
PERIOD_PATH="$(python3 - "$DATASET/statistics.csv" <<'PY'
import csv, sys
periods = sorted({(r["period_start"], r["period_end"]) for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8-sig"))})
start, end = periods[len(periods) // 2]
print(f"/api/v1/statistics?from={start}&to={end}&limit=100")
PY
)"

# ------------------------------------------------------------------ one backend
run_backend() { # sqlite|postgres
  local backend="$1" url dbname port base pid status ms out spec cell conns rep slice
  case "$backend" in
    sqlite) url="sqlite://$OUT/bench.db?mode=rwc"; rm -f "$OUT"/bench.db* ;;
    postgres)
      dbname="sanctuary_bench_$$"
      psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS \"$dbname\" WITH (FORCE)" >/dev/null 2>&1
      psql -q "$PG_URL/postgres" -c "CREATE DATABASE \"$dbname\"" >/dev/null
      PG_DBS+=("$dbname")
      url="$PG_URL/$dbname"
      ;;
  esac

  log "$backend: importing $STAT_ROWS statistics rows"
  local load_before start seconds peak cpu server_before server_cpu=""
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  server_before="$(server_cpu_ticks)"
  start="$(date +%s.%N)"
  DATABASE_URL="$url" RUST_LOG=warn "${TIME_V[@]}" "$BIN" import "$DATASET" \
    >"$OUT/import-$backend.out" 2>"$OUT/import-$backend.log" || {
    cat "$OUT/import-$backend.log" >&2
    exit 1
  }
  seconds="$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")"
  peak="$(awk -F: '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$OUT/import-$backend.log")"
  cpu="$(awk -F: '/User time|System time/ {t += $2} END {if (NR) printf "%.1f", t}' "$OUT/import-$backend.log")"
  if [[ "$backend" == postgres && -n "$server_before" ]]; then
    server_cpu="$(python3 -c "import os, sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / os.sysconf(\"SC_CLK_TCK\"):.1f}')" "$server_before" "$(server_cpu_ticks)")"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$STAT_ROWS" "$seconds" "${cpu:-?}" "${server_cpu:--}" "${peak:-?}" \
    "$load_before / $(cut -d' ' -f1-3 /proc/loadavg)" >>"$IMPORTS"
  log "$backend: import took $seconds s (CPU ${cpu:-?} s${server_cpu:+, PostgreSQL server CPU $server_cpu s}), peak resident memory ${peak:-?} MB (load before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg))"

  port="$(free_port)"
  base="http://127.0.0.1:$port"
  start_bg "$OUT/serve-$backend.log" env DATABASE_URL="$url" RUST_LOG=warn \
    "$BIN" serve --addr "127.0.0.1:$port" --seed-dir "$DATASET"
  pid=$LAST_PID
  wait_http "$base/readyz" "$pid" 120 || { echo "the service did not start" >&2; tail -20 "$OUT/serve-$backend.log" >&2; exit 1; }

  # Cold: the first request of each cell after the import (an empty response cache).
  read -r status ms < <(curl_req "$base" "/api/v1/statistics?limit=100" "$OUT/first-page.json")
  [[ "$status" == 200 ]] || { echo "GET /api/v1/statistics answered $status" >&2; exit 1; }
  printf '%s\tpage\t%s\t%.1f\n' "$backend" "$status" "$(python3 -c "print($ms * 1000)")" >>"$COLD"
  read -r FILTER_PATH ITEM_PATH < <(python3 - "$OUT/first-page.json" <<'PY'
import json, sys, urllib.parse
row = json.load(open(sys.argv[1]))["data"][0]
metric = row["metric"]["id"] if isinstance(row["metric"], dict) else row["metric"]
print(f"/api/v1/statistics?metric={urllib.parse.quote(metric)}&limit=100",
      f"/api/v1/statistics/{urllib.parse.quote(row['id'], safe='')}")
PY
  )
  # More cold pages: each a different page size, so each is a response-cache miss (the
  # query and the rendering), after the first request warmed the connection pool.
  for n in 91 92 93 94 95; do
    read -r status ms < <(curl_req "$base" "/api/v1/statistics?limit=$n" /dev/null)
    printf '%s\tpage_miss\t%s\t%.1f\n' "$backend" "$status" "$(python3 -c "print($ms * 1000)")" >>"$COLD"
  done
  # Cold only (before the whole-table download, whose rendering would compete): the latest
  # figures (REST and GraphQL), unfiltered facets, and a page filtered on a period window in
  # the middle of the dataset's periods (issue #12: what the importer stores or indexes).
  while IFS='|' read -r cell spec; do
    read -r status ms < <(curl_req "$base" "$spec" "$OUT/cold-$backend-$cell.out")
    [[ "$status" == 200 ]] || { echo "$cell ($spec) answered $status" >&2; head -c 500 "$OUT/cold-$backend-$cell.out" >&2; exit 1; }
    printf '%s\t%s\t%s\t%.1f\n' "$backend" "$cell" "$status" "$(python3 -c "print($ms * 1000)")" >>"$COLD"
  done <<EOF
latest|/api/v1/statistics/latest?limit=100
facets|/api/v1/statistics/facets?facet=program,metric
period|$PERIOD_PATH
gql_latest|POST:/graphql:$OUT/gql_latest.json
EOF
  mkdir -p "$OUT/static/$backend"
  while IFS='|' read -r cell spec conns; do
    out="$OUT/static/$backend/$cell"
    read -r status ms < <(curl_req "$base" "$spec" "$out")
    [[ "$status" == 200 ]] || { echo "$cell ($spec) answered $status" >&2; head -c 500 "$out" >&2; exit 1; }
    [[ "$cell" == page ]] || printf '%s\t%s\t%s\t%.1f\n' "$backend" "$cell" "$status" "$(python3 -c "print($ms * 1000)")" >>"$COLD"
  done < <(cells)
  chmod -R a+rX "$OUT/static"

  for rep in $(seq 1 "$REPEAT"); do
    while IFS='|' read -r cell spec conns; do
      # Ceiling and ours alternate in slices of SLICE seconds (one slice of DURATION for the
      # whole-table CSV, whose requests can outlast a slice, and when DURATION is not a
      # multiple of SLICE). Each slice's end drops the requests still in flight (up to one
      # per connection), as the end of any wrk run does, but once per slice: at 1 s slices,
      # a few tenths of a percent of the requests of the slowest cells, which can lower
      # their p99 a little.
      local slices=$((DURATION / SLICE)) secs=$SLICE
      if [[ "$cell" == csv || $slices -lt 1 || $((DURATION % SLICE)) -ne 0 ]]; then
        slices=1 secs=$DURATION
      fi
      for slice in $(seq 1 "$slices"); do
        if [[ "$cell" == healthz ]]; then
          [[ -n "$HELLO_BASE" ]] && run_wrk "$backend" "$rep" "$cell" "$conns" hello "$HELLO_BASE" / "$secs"
          [[ -n "$NG_BASE" ]] && run_wrk "$backend" "$rep" "$cell" "$conns" nginx "$NG_BASE" /hello "$secs"
        elif [[ -n "$NG_BASE" ]]; then
          run_wrk "$backend" "$rep" "$cell" "$conns" nginx "$NG_BASE" "/$backend/$cell" "$secs"
        fi
        run_wrk "$backend" "$rep" "$cell" "$conns" ours "$base" "$spec" "$secs"
      done
    done < <(cells)
  done
  stop_group "$pid"
  [[ "$backend" == postgres ]] && psql -q "$PG_URL/postgres" \
    -c "DROP DATABASE IF EXISTS \"$dbname\" WITH (FORCE)" >/dev/null 2>&1
  return 0
}

echo "== machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $("$BIN" --version 2>/dev/null || echo sanctuary-data); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); ${DURATION} s per cell in slices of ${SLICE} s, $REPEAT run(s), $CONNS connections"
for backend in $BACKENDS; do run_backend "$backend"; done

# ------------------------------------------------------------------ Datasette (optional)
if [[ -n "$PEERS_SCRIPT" ]]; then
  if [[ -x "$PEERS_SCRIPT" ]]; then
    log "Datasette through $PEERS_SCRIPT (its own 5,000-row sample)"
    DURATION="$DURATION" REPEAT="$REPEAT" CONNS="$CONNS" CSV_CONNS="$CSV_CONNS" THREADS="$THREADS" PIN="$PIN" \
      "$PEERS_SCRIPT" --peers datasette --only page_array,filter_array,row,gql_page,csv --no-install \
      --out "$OUT/peers" >"$OUT/peers.log" 2>&1 || log "peers.sh failed (Datasette not installed?): see $OUT/peers.log"
  else
    log "no peers script at $PEERS_SCRIPT: no Datasette column"
  fi
fi

# ------------------------------------------------------------------ summary
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" "$SMOKE" <<'PY'
import csv, os, sys
from collections import defaultdict
out, smoke = sys.argv[1], sys.argv[2] == "1"
rows = list(csv.DictReader(open(os.path.join(out, "results.tsv")), delimiter="\t"))
cold = list(csv.DictReader(open(os.path.join(out, "cold.tsv")), delimiter="\t"))
imports = list(csv.DictReader(open(os.path.join(out, "imports.tsv")), delimiter="\t"))

# Datasette's cells, by our cell names (peers.sh endpoint names differ).
ds_names = {"page_array": "page", "filter_array": "filter", "row": "item", "gql_page": "gql_post", "csv": "csv"}
ds = defaultdict(list)
peers_tsv = os.path.join(out, "peers", "results.tsv")
if os.path.exists(peers_tsv):
    for r in csv.DictReader(open(peers_tsv), delimiter="\t"):
        if r["peer"] == "datasette" and r["endpoint"] in ds_names:
            d = int(r["duration_us"]) / 1e6
            if d:
                ds[(ds_names[r["endpoint"]], r["conns"])].append(int(r["requests"]) / d)

# (backend, cell) -> peer -> list of (rps, p99 ms, errors), one per run: a run's slices summed
# (requests over time); its p99 that of all its requests, estimated from each slice's tail
# (runs of one slice: wrk's own p99).
runs = defaultdict(lambda: [0, 0.0, [], 0])

def tail_of(r):
    """A slice's latency quantiles [(fraction, ms)], with its request count."""
    points = [(0.0, 0.0)]
    if r.get("tail_us", "-") not in ("-", "", None):
        for item in r["tail_us"].split(","):
            p, us = item.split(":")
            points.append((float(p) / 100, int(us) / 1000))
    return int(r["requests"]), points

def cdf(points, x):
    """The fraction of a slice's requests at or under x ms (linear between its quantiles)."""
    for (p0, x0), (p1, x1) in zip(points, points[1:]):
        if x <= x1:
            return p1 if x1 == x0 else p0 + (p1 - p0) * (x - x0) / (x1 - x0)
    return 1.0

def run_p99(slices):
    slices = [(n, pts) for n, pts in slices if n > 0 and len(pts) > 1]
    if not slices:
        return 0.0
    if len(slices) == 1:
        return dict(slices[0][1]).get(0.99, 0.0)
    total = sum(n for n, _ in slices)
    lo, hi = 0.0, max(pts[-1][1] for _, pts in slices)
    for _ in range(60):
        mid = (lo + hi) / 2
        if sum(n * cdf(pts, mid) for n, pts in slices) / total >= 0.99:
            hi = mid
        else:
            lo = mid
    return hi
order = []
failures = []
for r in rows:
    key = (r["backend"], r["cell"], r["conns"])
    if key not in order:
        order.append(key)
    n = int(r["requests"])
    errors = int(r["sock_errors"]) + int(r["non2xx"])
    run = runs[(key, r["peer"], r["rep"])]
    run[0] += n
    run[1] += int(r["duration_us"]) / 1e6
    run[2].append(tail_of(r))
    run[3] += errors
    if n == 0 or errors:
        failures.append(f"{r['backend']} {r['cell']} {r['peer']} run {r['rep']}: {n} requests, {errors} errors")
cells = defaultdict(lambda: defaultdict(list))
for (key, peer, _rep), (n, d, slices, errors) in runs.items():
    cells[key][peer].append((n / d if d else 0.0, run_p99(slices), errors))

targets = {"page": ("nginx", 0.5), "filter": ("nginx", 0.5), "item": ("nginx", 0.5),
           "gql_post": ("nginx", 0.3), "gql_get": ("nginx", 0.3), "healthz": ("hello", 0.8)}

def fmt(v):
    return f"{v:,.0f}"

def join(values):
    return " / ".join(values) if values else "-"

print()
print("requests/s per run (run1 / run2 ...: each its slices summed); p99 in ms at the cell's connections; ratio = ours / ceiling")
header = f"{'backend':<9}{'cell':<9}{'conns':>5}  {'ours':>17}  {'nginx':>17}  {'hello':>17}  {'datasette':>13}  {'ours p99':>13}  {'ratio':>13}  target"
print(header)
print("-" * len(header))
verdicts = []
for key in order:
    backend, cell, conns = key
    peers = cells[key]
    ours = peers.get("ours", [])
    ref, goal = targets.get(cell, ("nginx", None))
    ratios = [a[0] / b[0] for a, b in zip(ours, peers.get(ref, [])) if b[0] > 0]
    p99s = [o[1] for o in ours]
    target = "-"
    if goal is not None and ratios:
        met_ratio = min(ratios) >= goal
        met_p99 = max(p99s) <= 10.0
        target = f">= {goal}x {ref}: {'met' if met_ratio else 'NOT met'}; p99 <= 10 ms: {'met' if met_p99 else 'NOT met'}"
        verdicts.append((backend, cell, met_ratio, met_p99))
    print(f"{backend:<9}{cell:<9}{conns:>5}  {join([fmt(o[0]) for o in ours]):>17}  "
          f"{join([fmt(x[0]) for x in peers.get('nginx', [])]):>17}  "
          f"{join([fmt(x[0]) for x in peers.get('hello', [])]):>17}  "
          f"{join([fmt(x) for x in ds.get((cell, conns), [])]):>13}  "
          f"{join([f'{p:.2f}' for p in p99s]):>13}  {join([f'{x:.2f}' for x in ratios]):>13}  {target}")

print()
print("cold: the first request of each cell after the import (ms, curl time_total);")
print("page_miss: five more 100-row pages that miss the response cache (query + render)")
misses = defaultdict(list)
for r in cold:
    if r["cell"] == "page_miss":
        misses[r["backend"]].append(float(r["ms"]))
        continue
    note = " (target <= 20 ms)" if r["cell"] == "page" else ""
    print(f"  {r['backend']:<9}{r['cell']:<9}{float(r['ms']):>9.1f}{note}")
for backend, values in misses.items():
    print(f"  {backend:<9}page_miss {' / '.join(f'{v:.1f}' for v in values)}")
print()
print("import (validation, disclosure control, audit, load): wall clock, CPU time of the importer")
print("(and of the PostgreSQL server), peak resident memory of the importer, load average before / after")
for r in imports:
    goal = 60 if r["backend"] == "sqlite" else 120
    server = f" + server {r['server_cpu_seconds']} s" if r["server_cpu_seconds"] != "-" else ""
    print(f"  {r['backend']:<9}{int(r['rows']):>10,} rows {float(r['seconds']):>8.1f} s wall (target <= {goal} s at 1M rows),"
          f" CPU {r['cpu_seconds']} s{server}, peak {r['peak_mb']} MB (target <= 1024); load {r['load']}")
if ds:
    print("\n(datasette: peers.sh on its own 5,000-row sample, `_shape=array` pages)")
if failures:
    print("\nerrors or empty runs (a whole-table CSV longer than a run completes no request):\n  "
          + "\n  ".join(failures))
    if smoke:
        sys.exit(1)
print(f"\nraw results: {out}/results.tsv")
PY
