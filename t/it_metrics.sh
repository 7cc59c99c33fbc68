#!/bin/sh
# t/it_metrics.sh - webwardend's /metrics scraped by a real Prometheus (Debian's package, its own
# config and storage in a temp folder, on a free loopback port, 1 s scrape interval): after known
# traffic through a real c-icap (N allowed and M blocked URLs, K EICAR downloads, C clean ones),
# PromQL queries through Prometheus's HTTP API return those counts; with clamav-testfiles, a
# clam.exe inside a zip is found by the deep scanner and counted as scanner="clamav". Also: the text format and
# its Content-Type, and a bad metrics.listen stopping webwardend at start with a clear error.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
PY=${PYTHON3:-python3}
PROM=${PROMETHEUS_BIN:-/usr/bin/prometheus}
CTL="$top_builddir/src/webwardenctl"
WWD="$top_builddir/src/webwardend"
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "$PY" "$PROM" sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-metrics.XXXXXX")
fails=0
status=1
wwd=""
prom=""
cleanup() {
    [ -f "$tmp/var/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    ww_stop_pids $wwd $prom
    if [ "$status" != 0 ]; then
        echo "----- webwardend log (tail)"
        tail -n 20 "$tmp/wwd.log" 2>/dev/null
        echo "----- prometheus log (tail)"
        tail -n 20 "$tmp/prom.log" 2>/dev/null
        echo "----- c-icap server.log (tail)"
        tail -n 20 "$tmp/var/log/server.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

N=5 # allowed URLs
M=3 # blocked URLs
K=2 # EICAR downloads
C=4 # clean downloads
Z=0 # clam.zip downloads (the deep scanner: clam.exe in a zip), when clamav-testfiles is there
U=2 # downloads over scan.max_size: passed unscanned (scan.oversize_action = allow)
TESTFILES=/usr/share/clamav-testfiles
[ -r "$TESTFILES/clam.zip" ] && [ -r "$TESTFILES/clam.exe" ] && Z=1

mkdir -p "$tmp/patterns" "$tmp/spool" "$tmp/var" "$tmp/prom" "$tmp/clamav"
# The deep scanner's database: one hash signature of clam.exe, made from the test file itself
# (the fast engine never sees inside the zip, so only libclamav can find it).
[ "$Z" = 1 ] && echo "$(md5sum "$TESTFILES/clam.exe" | cut -d' ' -f1):$(wc -c <"$TESTFILES/clam.exe" | tr -d ' '):Webwarden.Test.ClamExe" \
    >"$tmp/clamav/local-clam.hdb"
printf 'blocked.webwarden.test\n' >"$tmp/blocked.txt"
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
echo "$(sha256sum "$tmp/eicar.com" | cut -d' ' -f1):68:Eicar-Test-Signature" >"$tmp/patterns/test.hsb"
head -c 20000 /dev/urandom >"$tmp/clean.bin"
head -c 70000 /dev/urandom >"$tmp/big.bin"

cport=$(ww_free_port)
mport=$(ww_free_port)
pport=$(ww_free_port)
cat >"$tmp/webwarden.conf" <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state.db
[daemon]
pid_file = $tmp/webwardend.pid
[lists]
blocked = $tmp/blocked.txt
[scan]
patterns_dir = $tmp/patterns
tmp_dir = $tmp/spool
max_size = 50K
[clamav]
database_dir = $tmp/clamav
[metrics]
listen = 127.0.0.1:$mport
EOF
"$CTL" -c "$tmp/webwarden.conf" init >"$tmp/init.out" 2>&1 || { echo "init failed: $(cat "$tmp/init.out")"; exit 1; }

# --- a bad metrics.listen stops webwardend at start, naming the key -----------------------------
bad_start() { # $1 = value, $2 = expected text
    sed "s|^listen = .*|listen = $1|" "$tmp/webwarden.conf" >"$tmp/bad.conf"
    "$WWD" -c "$tmp/bad.conf" --foreground >"$tmp/bad.out" 2>&1 &
    _bp=$!
    if wait_for 10 sh -c "! kill -0 $_bp 2>/dev/null"; then
        wait "$_bp"
        _rc=$?
        [ "$_rc" != 0 ] && ok "metrics.listen '$1': webwardend exits $_rc" ||
            fail "metrics.listen '$1': webwardend exited 0"
        expect_grep "metrics.listen '$1': the error names the key" "$tmp/bad.out" "metrics.listen $1"
        expect_grep "metrics.listen '$1': the error says why" "$tmp/bad.out" "$2"
    else
        fail "metrics.listen '$1': webwardend still running"
        ww_stop_pids "$_bp"
    fi
}
bad_start "127.0.0.1" "not host:port"
bad_start "127.0.0.1:70000" "not host:port"
bad_start "192.0.2.1:$mport" "Cannot assign requested address"

ww_cicap_conf "$tmp/c-icap.conf" "$cport" "$tmp/webwarden.conf" "$tmp/var" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1
bad_start "127.0.0.1:$cport" "in use" # c-icap holds that port now

"$WWD" -c "$tmp/webwarden.conf" --foreground >"$tmp/wwd.log" 2>&1 &
wwd=$!
ww_wait_port "$mport" 20 "$wwd" || { fail "webwardend does not listen on $mport"; exit 1; }
ok "webwardend serves metrics on 127.0.0.1:$mport"

cat >"$tmp/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: webwarden
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
"$PROM" --config.file="$tmp/prom/prometheus.yml" --storage.tsdb.path="$tmp/prom/data" \
    --web.listen-address="127.0.0.1:$pport" >"$tmp/prom.log" 2>&1 &
prom=$!

# --- known traffic ------------------------------------------------------------------------------
icap() { "$CLIENT" -i 127.0.0.1 -p "$cport" "$@"; }
i=0
while [ $i -lt $N ]; do
    icap -s webwarden_url -req "http://site$i.webwarden.test/page" -v >"$tmp/a$i.txt" 2>&1
    grep -qF "ICAP/1.0 204" "$tmp/a$i.txt" || fail "allowed URL $i: not 204"
    i=$((i + 1))
done
i=0
while [ $i -lt $M ]; do
    icap -s webwarden_url -req "http://blocked.webwarden.test/$i" -v >"$tmp/b$i.txt" 2>&1
    grep -qF "403 Forbidden" "$tmp/b$i.txt" || fail "blocked URL $i: no block page"
    i=$((i + 1))
done
i=0
while [ $i -lt $K ]; do
    icap -s webwarden_scan -f "$tmp/eicar.com" -resp "http://dl.webwarden.test/eicar$i.com" -v \
        -o "$tmp/e$i.html" >"$tmp/e$i.txt" 2>&1
    grep -qF "403 Forbidden" "$tmp/e$i.txt" || fail "EICAR $i: not blocked"
    i=$((i + 1))
done
i=0
while [ $i -lt $C ]; do
    icap -s webwarden_scan -f "$tmp/clean.bin" -resp "http://dl.webwarden.test/clean$i.bin" -v \
        >"$tmp/c$i.txt" 2>&1
    grep -qF "403 Forbidden" "$tmp/c$i.txt" && fail "clean $i: blocked"
    i=$((i + 1))
done
i=0
while [ $i -lt $Z ]; do
    icap -s webwarden_scan -f "$TESTFILES/clam.zip" -resp "http://dl.webwarden.test/clam$i.zip" -v \
        -o "$tmp/z$i.html" >"$tmp/z$i.txt" 2>&1
    grep -qF "403 Forbidden" "$tmp/z$i.txt" || fail "clam.zip $i: not blocked"
    i=$((i + 1))
done
i=0
while [ $i -lt $U ]; do
    icap -s webwarden_scan -f "$tmp/big.bin" -resp "http://dl.webwarden.test/big$i.bin" -v \
        >"$tmp/u$i.txt" 2>&1
    grep -qF "403 Forbidden" "$tmp/u$i.txt" && fail "over max_size $i: blocked"
    i=$((i + 1))
done
[ "$Z" = 0 ] && echo "note: clamav-testfiles not installed: no deep-scanner detection sent"
ok "traffic sent: $N allowed, $M blocked, $K EICAR, $C clean, $Z clam.zip, $U over max_size"

# --- the exposition itself ----------------------------------------------------------------------
"$PY" - "$mport" "$tmp/metrics.txt" <<'EOF' || fail "GET /metrics"
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10)
open(sys.argv[2], "w").write("Content-Type: %s\n%s" % (r.headers["Content-Type"], r.read().decode()))
EOF
expect_grep "Content-Type is the text format 0.0.4" "$tmp/metrics.txt" "Content-Type: text/plain; version=0.0.4"
expect_grep "# TYPE of the request counter" "$tmp/metrics.txt" "# TYPE webwarden_icap_requests_total counter"
expect_grep "histogram +Inf bucket" "$tmp/metrics.txt" 'webwarden_scan_duration_seconds_bucket{le="+Inf"}'
expect_grep "bytes scanned counted" "$tmp/metrics.txt" "webwarden_scan_bytes_total"
expect_grep "the counters file was read" "$tmp/metrics.txt" "webwarden_counters_ok 1"
expect_grep "the store was read" "$tmp/metrics.txt" "webwarden_metrics_store_ok 1"

# --- PromQL through Prometheus's HTTP API -------------------------------------------------------
ww_wait_port "$pport" 60 "$prom" || { fail "prometheus did not start"; exit 1; }
# query EXPR: prints the first sample's value ("" when none)
query() {
    "$PY" - "$pport" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
u = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
try:
    d = json.load(urllib.request.urlopen(u, timeout=5))
    r = d["data"]["result"]
    print(r[0]["value"][1] if d["status"] == "success" and r else "")
except Exception as e:
    print("")
EOF
}
query_is() { [ "$(query "$1")" = "$2" ]; }
expect_query() { # DESC EXPR WANT
    if wait_for 30 query_is "$2" "$3"; then ok "$1: $2 = $3"; else
        fail "$1: $2 = '$(query "$2")', want $3"
    fi
}
expect_query "scrape target up" 'up{job="webwarden"}' 1
expect_query "allowed URLs" 'webwarden_icap_requests_total{service="webwarden_url",action="allow"}' $N
expect_query "blocked URLs" 'webwarden_icap_requests_total{service="webwarden_url",action="block"}' $M
expect_query "EICAR and clam.zip blocked" 'webwarden_icap_requests_total{service="webwarden_scan",action="block"}' $((K + Z))
expect_query "clean downloads" 'webwarden_icap_requests_total{service="webwarden_scan",action="clean"}' $C
expect_query "detections by the signature scanner" 'webwarden_detections_total{scanner="signature"}' $K
expect_query "detections by the deep scanner (libclamav)" 'webwarden_detections_total{scanner="clamav"}' $Z
expect_query "no smart-scan detection" 'webwarden_detections_total{scanner="smart"}' 0
expect_query "passed unscanned" 'webwarden_icap_requests_total{service="webwarden_scan",action="unscanned"}' $U
expect_query "unscanned: over scan.max_size" 'webwarden_unscanned_total{reason="size"}' $U
expect_query "unscanned by reason: the sum is the unscanned answers" 'sum(webwarden_unscanned_total)' $U
expect_query "scan latency observations" 'webwarden_scan_duration_seconds_count' $((K + C + Z + U))
expect_query "latency histogram: +Inf bucket = count" \
    'webwarden_scan_duration_seconds_bucket{le="+Inf"} - ignoring(le) webwarden_scan_duration_seconds_count' 0
expect_query "bytes scanned at least the bodies" \
    "webwarden_scan_bytes_total >= bool $((K * 68 + C * 20000))" 1
expect_query "scan method in force" 'webwarden_scan_method{method="smart"}' 1
expect_query "no fall-back" 'webwarden_smart_scan_fallbacks_total' 0

# More traffic: the counter moves, the rate query an admin would graph sees it.
icap -s webwarden_url -req "http://blocked.webwarden.test/again" >/dev/null 2>&1
expect_query "a further block is counted" 'webwarden_icap_requests_total{service="webwarden_url",action="block"}' $((M + 1))

[ "$fails" -eq 0 ] && status=0
echo "$fails failure(s)"
exit $status
