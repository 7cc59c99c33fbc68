#!/bin/bash
# bench/run-reputation.sh - issue 3's REQMOD benchmark on loopback: c-icap's echo service against
# webwarden_url with (a) every answer in the child's cache, (b) every answer from the local URL
# database, (c) the reputation server down (hanging: each call costs reputation.timeout_ms; or
# refusing) with back-off on and off. One c-icap per scenario (fresh cache and back-off state),
# bench/icapload, interleaved repeats, a markdown table of medians with ratios to echo.
set -u

usage() {
    cat <<EOF
Usage: bench/run-reputation.sh [options]
  -o DIR         results folder (default bench/results/reputation-<date>-<time>/)
  -r N           interleaved repeats (default 3, at most 20)
  -d SECONDS     measured seconds per cell (default 3)
  -w SECONDS     warm-up seconds per cell, not measured (default 1)
  -c LIST        concurrencies, comma-separated (default 1,8,16)
  -u N           URLs (each on its own host; default 1000, at most 1000000); the local
                 database rates every host
  -e N           reputation.cache_entries per child (default 100000); -u above -e gives a
                 URL set larger than the cache (the cached scenario then calls the server)
  --only LIST    scenarios (default cached,localdb,hang-backoff-on,hang-backoff-off,
                 refused-backoff-on,refused-backoff-off)
  -h, --help     this text
Environment: top_srcdir, top_builddir, CICAP_BIN, WW_MODULES_DIR, PYTHON3.
EOF
}

BL_DIR=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$BL_DIR/.." && pwd)}
. "$BL_DIR/bench-lib.sh"
top_builddir=$(bl_builddir)

outdir='' repeats=3 dur=3 warm=1 concs=1,8,16 nurls=1000 cache_entries=100000
only=cached,localdb,hang-backoff-on,hang-backoff-off,refused-backoff-on,refused-backoff-off
while [ $# -gt 0 ]; do
    case $1 in
    -o) outdir=${2:?-o needs a folder}; shift 2 ;;
    -r) repeats=${2:?}; shift 2 ;;
    -d) dur=${2:?}; shift 2 ;;
    -w) warm=${2:?}; shift 2 ;;
    -c) concs=${2:?}; shift 2 ;;
    -u) nurls=${2:?}; shift 2 ;;
    -e) cache_entries=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
isnum "$repeats" 1 20 || bl_die "-r: 1 to 20"
isnum "$dur" 1 600 || bl_die "-d: 1 to 600"
isnum "$warm" 0 60 || bl_die "-w: 0 to 60"
isnum "$nurls" 1 1000000 || bl_die "-u: 1 to 1000000"
isnum "$cache_entries" 1 10000000 || bl_die "-e: 1 to 10000000"
maxc=1
for c in ${concs//,/ }; do
    isnum "$c" 1 256 || bl_die "-c: each concurrency 1 to 256"
    [ "$c" -gt "$maxc" ] && maxc=$c
done

bl_icapload "$top_builddir"
WW_MODULES_DIR=${WW_MODULES_DIR:-$top_builddir/modules/.libs}
ww_url_so=$WW_MODULES_DIR/srv_webwarden_url.so
[ -r "$ww_url_so" ] || bl_die "$ww_url_so not built"
CTL=$top_builddir/src/webwardenctl
[ -x "$CTL" ] || bl_die "$CTL not built"
FAKE=$top_srcdir/t/fake_wrs.py
[ -r "$FAKE" ] || bl_die "$FAKE missing"

outdir=${outdir:-$top_srcdir/bench/results/reputation-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$outdir" || bl_die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-bench-rep.XXXXXX") || bl_die "mktemp failed"
FAKE_PID=''
BL_CICAP_PID=''
cleanup() {
    [ -n "$BL_CICAP_PID" ] && bl_stop_pid "$BL_CICAP_PID"
    [ -n "$FAKE_PID" ] && bl_stop_pid "$FAKE_PID"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bl_env_info >"$outdir/env.txt"
bl_log "results in $outdir"

# --- the fake reputation server, URLs, the local database ------------------------------------
"$BL_PY" "$FAKE" --port-file "$tmp/wrs.port" >"$tmp/wrs.log" 2>&1 </dev/null &
FAKE_PID=$!
end=$(($(date +%s) + 10))
while [ ! -s "$tmp/wrs.port" ]; do
    if ! kill -0 "$FAKE_PID" 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
        bl_die "fake_wrs did not start"
    fi
    sleep 0.1
done
WRS=http://127.0.0.1:$(cat "$tmp/wrs.port")
DEAD=http://127.0.0.1:$(bl_free_port) # nothing listens there: connections are refused
fake() { # fake mode MODE | fake count | fake reset
    "$BL_PY" - "$WRS" "$@" <<'PYEOF'
import json, sys, urllib.request
base, what = sys.argv[1], sys.argv[2]
if what == "count":
    print(json.load(urllib.request.urlopen(base + "/_stats", timeout=5))["requests"])
else:
    body = json.dumps({"mode": sys.argv[3]} if what == "mode" else {}).encode()
    path = "/_mode" if what == "mode" else "/_reset"
    urllib.request.urlopen(urllib.request.Request(base + path, data=body, method="POST"),
                           timeout=5).read()
PYEOF
}
# run-icap.sh's URL set: N URLs on N hosts (1000 by default), with paths and queries.
"$BL_PY" - "$tmp/urls.txt" "$tmp/urldb.txt" "$nurls" <<'PYEOF'
import sys
n = int(sys.argv[3])
with open(sys.argv[1], "w") as f:
    for i in range(n):
        f.write("http://www%d.site%d.example/path/%d/index.html?q=%d\n" % (i % 7, i, i % 13, i))
with open(sys.argv[2], "w") as f:
    f.write("webwarden-urldb 1 2026.11.27.1\n")
    for i in range(n):
        f.write("site%d.example 90 news\n" % i)
PYEOF

# --- one scenario ------------------------------------------------------------------------------
results=$outdir/results.jsonl
: >"$results"
tck=$(getconf CLK_TCK)
threads=$((maxc > 64 ? maxc : 64))

run_cell() { # SCENARIO SERVICE C REP
    local scen=$1 svc=$2 c=$3 rep=$4 raw t0 t1 calls0 calls1
    raw=$outdir/raw-$scen-c$c-$svc-r$rep.json
    calls0=$(fake count)
    t0=$(bl_cpu_ticks "$BL_CICAP_PID")
    "$ICAPLOAD" -P "$port" -s "$svc" -m reqmod -U "$tmp/urls.txt" -c "$c" -d "$dur" -W "$warm" \
        -t 5000 -l "$scen c=$c $svc r$rep" --json >"$raw" 2>>"$outdir/icapload.log"
    t1=$(bl_cpu_ticks "$BL_CICAP_PID")
    calls1=$(fake count)
    "$BL_PY" - "$raw" "REQMOD $scen c=$c" "$svc" "$rep" "$((t1 - t0))" "$tck" "$((dur + warm))" \
        "$((calls1 - calls0))" >>"$results" <<'PYEOF'
import json, sys
raw, group, svc, rep, ticks, tck, total_s, calls = sys.argv[1:]
try:
    with open(raw) as f:
        j = json.load(f)
except (OSError, ValueError):
    j = {"rps": 0, "requests": 0, "errors": -1, "timeouts": 0, "body_mib_per_s": 0,
         "latency_ms": {}}
reqs_total = j["rps"] * int(total_s)
cpu = int(ticks) / int(tck) * 1e6 / reqs_total if reqs_total else None
print(json.dumps({"group": group, "name": svc, "baseline": "echo", "repeat": int(rep),
                  "rps": j["rps"], "mib_s": j["body_mib_per_s"], "requests": j["requests"],
                  "p50": j["latency_ms"].get("p50"), "p90": j["latency_ms"].get("p90"),
                  "p99": j["latency_ms"].get("p99"), "max": j["latency_ms"].get("max"),
                  "errors": j["errors"], "timeouts": j["timeouts"],
                  "unfinished": j.get("unfinished", 0), "status": j.get("status"),
                  "cpu_us_req": {"c-icap": cpu}, "server_calls": int(calls)}))
PYEOF
    tail -n 1 "$outdir/icapload.log" >&2
    echo "  reputation server calls during the cell: $((calls1 - calls0))" >&2
}

scenario() { # NAME
    local name=$1 server=$WRS backoff=on urldb='' fmode=normal c rep
    case $name in
    cached) ;;
    localdb) urldb=$tmp/urldb.txt ;;
    hang-backoff-on) fmode=hang ;;
    hang-backoff-off) fmode=hang backoff=off ;;
    refused-backoff-on) server=$DEAD ;;
    refused-backoff-off) server=$DEAD backoff=off ;;
    *) bl_die "--only: unknown scenario $name" ;;
    esac
    local var=$tmp/var-$name ww=$tmp/$name.conf conf=$tmp/c-icap-$name.conf
    cat >"$ww" <<EOC
# webwarden.conf written by bench/run-reputation.sh, scenario $name
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state-$name.db
[reputation]
server = $server
timeout_ms = 500
backoff = $backoff
cache_entries = $cache_entries
[urldb]
file = $urldb
EOC
    "$CTL" -c "$ww" init >/dev/null 2>&1 || bl_log "warning: webwardenctl init failed"
    cp "$ww" "$outdir/webwarden-$name.conf"
    port=$(bl_free_port)
    bl_cicap_conf "$conf" "$port" "$var" "$threads" || bl_die "cannot write $conf"
    printf 'Service webwarden_url %s\nwebwarden_url.ConfigFile %s\n' "$ww_url_so" "$ww" >>"$conf"
    fake mode "$fmode"
    fake reset
    bl_start_cicap "$conf" "$var" "$port" || bl_die "c-icap did not start ($name)"
    bl_icap_probe "$ICAPLOAD" "$port" webwarden_url reqmod ||
        bl_die "webwarden_url does not answer ($name)"
    if [ "$name" = cached ]; then
        local warm_n=$((nurls * 16 > 16000 ? nurls * 16 : 16000))
        [ "$warm_n" -gt 400000 ] && warm_n=400000
        # Fill both children's caches: every URL many times over, on more connections than
        # there are children; the cells then report how many calls still reached the server.
        "$ICAPLOAD" -P "$port" -s webwarden_url -m reqmod -U "$tmp/urls.txt" -c 16 -n "$warm_n" \
            -t 5000 >/dev/null 2>>"$outdir/icapload.log"
        bl_log "cache warm: $(fake count) server calls"
    fi
    bl_log "scenario $name: c-icap on $port, fake $fmode, $repeats x ($concs) x 2 services"
    for rep in $(seq 1 "$repeats"); do
        for c in ${concs//,/ }; do
            run_cell "$name" echo "$c" "$rep"
            run_cell "$name" webwarden_url "$c" "$rep"
        done
    done
    bl_stop_pid "$BL_CICAP_PID"
    BL_CICAP_PID=''
    fake mode normal
}

for s in ${only//,/ }; do
    scenario "$s"
done

{
    echo "# REQMOD reputation benchmark $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Loopback, c-icap $(dpkg-query -W -f '${Version}' c-icap 2>/dev/null), 2 children x $threads threads;"
    echo "bench/icapload over $nurls URLs on $nurls hosts (reputation.cache_entries $cache_entries a child),"
    echo "$repeats interleaved repeats of $dur s"
    echo "(+$warm s warm-up) per cell; reputation.timeout_ms 500, back-off defaults (3 failures, 30 s)."
    echo "Load average at start: $(sed -n 's/^load average at start: //p' "$outdir/env.txt")."
    echo
    bl_summary "$results"
    echo
    echo "Reputation server calls during the measured cells (webwarden_url, all repeats):"
    echo
    "$BL_PY" - "$results" <<'PYEOF'
import json, sys
calls = {}
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j["name"] == "webwarden_url":
        calls.setdefault(j["group"], []).append(j["server_calls"])
for g, c in calls.items():
    print("- %s: %s" % (g, ", ".join(str(x) for x in c)))
PYEOF
} >"$outdir/summary.md"
cat "$outdir/summary.md"
