#!/bin/sh
# t/it_smartscan.sh - smart scan in a real c-icap against t/fake_sps.py: a cloud verdict blocks,
# a hanging server costs at most smart_scan.timeout_ms and the local verdict stands; webwardend's
# health checks switch to conventional scan after 3 failures, c-icap stops calling the server
# within 2 s, and `webwardenctl scan-method smart` re-enables it only when the server answers
# (or with --force). Needs a built tree (make), run by `make check`.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
PY=${PYTHON3:-python3}
WWD="$top_builddir/src/webwardend"
CTL="$top_builddir/src/webwardenctl"
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "$PY" sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
for p in "$WWD" "$CTL"; do [ -x "$p" ] || { echo "missing $p: build first"; exit 1; }; done

# Under the build tree: a folder in /tmp vanished mid-run once on the shared test machine.
tmp=$(mktemp -d "$top_builddir/t/smartscan.XXXXXX") || exit 1
fails=0
status=1
sps_pid=""
wwd_pid=""
cleanup() {
    [ -f "$tmp/var/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    ww_stop_pids $wwd_pid $sps_pid
    if [ "$status" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 30 "$tmp/var/log/server.log" 2>/dev/null
        echo "----- c-icap access.log (tail)"
        tail -n 20 "$tmp/var/log/access.log" 2>/dev/null
        echo "----- webwardend log (tail)"
        tail -n 20 "$tmp/wwd.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds or time runs out

# --- the fake Smart Protection Server -------------------------------------------------------
mkdir -p "$tmp/patterns" "$tmp/spool" "$tmp/var" "$tmp/bodies"
head -c 20480 /dev/urandom >"$tmp/cloud_bad.bin" # known only to the cloud
head -c 20480 /dev/urandom >"$tmp/local_bad.bin" # known to the local patterns
head -c 100000 /dev/urandom >"$tmp/cloud_big.bin" # over scan.hold_max: streamed while scanned
cloud_sha=$(sha256sum "$tmp/cloud_bad.bin" | cut -d' ' -f1)
cloud_big_sha=$(sha256sum "$tmp/cloud_big.bin" | cut -d' ' -f1)
echo "$(sha256sum "$tmp/local_bad.bin" | cut -d' ' -f1):20480:Webwarden.Test.Local" >"$tmp/patterns/test.hsb"
printf '{"%s": "Cloud.Test.Malware", "%s": "Cloud.Test.Big"}\n' "$cloud_sha" "$cloud_big_sha" >"$tmp/verdicts.json"

"$PY" "$top_srcdir/t/fake_sps.py" --port-file "$tmp/sps.port" --verdicts "$tmp/verdicts.json" \
    >"$tmp/sps.out" 2>&1 &
sps_pid=$!
wait_for 20 test -s "$tmp/sps.port" || { echo "fake_sps.py did not start"; cat "$tmp/sps.out"; exit 1; }
sps_port=$(cat "$tmp/sps.port")
sps_base="http://127.0.0.1:$sps_port"

# sps_mode MODE [MS]: switches the fake's mode (for refuse: waits until it stopped listening).
sps_mode() {
    "$PY" - "$sps_base" "$1" "${2:-0}" <<'EOF'
import json, sys, time, urllib.request
base, mode, ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
req = urllib.request.Request(base + "/_mode", data=json.dumps({"mode": mode, "ms": ms}).encode(),
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()
if mode == "refuse":
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(base + "/_stats", timeout=1).read()
        except OSError:
            sys.exit(0)
        time.sleep(0.05)
    sys.exit(1)
EOF
}
# sps_back: ends a "refuse -1" outage and waits until the fake answers again.
sps_back() {
    kill -USR1 "$sps_pid" && wait_for 10 ww_port_open "$sps_port"
}
# sps_count NAME: a counter of the fake's /_stats ("requests" = file lookups, "health").
sps_count() {
    "$PY" -c 'import json, sys, urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + "/_stats", timeout=5))[sys.argv[2]])' "$sps_base" "$1"
}

cat >"$tmp/webwarden.conf" <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state.db
[daemon]
pid_file = $tmp/run/webwardend.pid
log_file = $tmp/wwd.log
[scan]
patterns_dir = $tmp/patterns
tmp_dir = $tmp/spool
[smart_scan]
server = $sps_base
timeout_ms = 1500
health_interval_s = 1
failures_to_fallback = 3
EOF
ctl() { "$CTL" -c "$tmp/webwarden.conf" "$@"; }
ctl init >/dev/null || { echo "webwardenctl init failed"; exit 1; }
ctl status >"$tmp/st0.txt" 2>&1
expect_grep "a new database starts with smart scan" "$tmp/st0.txt" "smart"

port=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/webwarden.conf" "$tmp/var" || exit 1
# The smart-scan verdict of each request is in the access log (t/wwenv.sh's LogFormat).
grep -q 'smart=%{webwarden:smart}Sa' "$tmp/c-icap.conf" || { echo "test bug: LogFormat not extended"; exit 1; }
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1

icap() { "$CLIENT" -i 127.0.0.1 -p "$port" "$@"; }
log="$tmp/var/log/access.log"
# access_line URL: waits (5 s) for the access-log line of URL and prints it.
access_line() {
    wait_for 5 grep -qF " url=$1 " "$log" && grep -F " url=$1 " "$log" | tail -n 1
}
# access_ms FILE: the ms=N attribute of the access-log line in FILE.
access_ms() { sed -n 's/.* ms=\([0-9]*\) .*/\1/p' "$1" | tail -n 1; }
# fresh NAME: a new random body (never seen before, so no cache answers it).
fresh() {
    head -c 8192 /dev/urandom >"$tmp/bodies/$1"
    echo "$tmp/bodies/$1"
}

# --- a cloud verdict blocks; a clean body passes -------------------------------------------
icap -s webwarden_scan -f "$tmp/cloud_bad.bin" -resp 'http://dl.webwarden.test/cloud_bad.bin' -v \
    -o "$tmp/cloud_page.html" >"$tmp/s_cloud.txt" 2>&1
expect_grep "cloud-malicious body: HTTP 403" "$tmp/s_cloud.txt" "403 Forbidden"
expect_grep "cloud-malicious body: X-Infection-Found names the threat" "$tmp/s_cloud.txt" "Threat=Cloud.Test.Malware"
expect_grep "cloud-malicious body: block page names the threat" "$tmp/cloud_page.html" "Cloud.Test.Malware"
access_line http://dl.webwarden.test/cloud_bad.bin >"$tmp/a_cloud.txt"
expect_grep "access log: smart=malicious" "$tmp/a_cloud.txt" "action=block"
expect_grep "access log: smart=malicious" "$tmp/a_cloud.txt" "smart=malicious"

# Over hold_max the body streams back while scanned; the verdict comes at the end, so the
# download is broken off, as for a late local match.
icap -s webwarden_scan -nopreview -no204 -f "$tmp/cloud_big.bin" -resp 'http://dl.webwarden.test/cloud_big.bin' \
    -o "$tmp/cloud_big.out" >"$tmp/s_cloud_big.txt" 2>&1
if cmp -s "$tmp/cloud_big.bin" "$tmp/cloud_big.out"; then fail "cloud-malicious streamed body arrived whole"; else
    ok "cloud-malicious streamed body: download cut"; fi
access_line http://dl.webwarden.test/cloud_big.bin >"$tmp/a_cloud_big.txt"
expect_grep "access log: streamed body blocked by smart scan" "$tmp/a_cloud_big.txt" "threat=Cloud.Test.Big"
expect_grep "access log: streamed body smart=malicious" "$tmp/a_cloud_big.txt" "smart=malicious"

t0=$(now_ms)
icap -s webwarden_scan -f "$(fresh clean1)" -resp 'http://dl.webwarden.test/clean1' -v >"$tmp/s_clean1.txt" 2>&1
base_took=$(($(now_ms) - t0))
expect_grep "unknown body: allowed (204)" "$tmp/s_clean1.txt" "ICAP/1.0 204"
access_line http://dl.webwarden.test/clean1 >"$tmp/a_clean1.txt"
expect_grep "access log: smart=unknown" "$tmp/a_clean1.txt" "smart=unknown"

icap -s webwarden_scan -f "$tmp/local_bad.bin" -resp 'http://dl.webwarden.test/local_bad' -v >"$tmp/s_local.txt" 2>&1
expect_grep "local detection still blocks" "$tmp/s_local.txt" "Threat=Webwarden.Test.Local"

# --- a hanging server: the request waits at most the timeout, the local verdict stands -------
sps_mode hang || fail "cannot switch the fake to hang"
t0=$(now_ms)
icap -s webwarden_scan -f "$(fresh hang1)" -resp 'http://dl.webwarden.test/hang1' -v >"$tmp/s_hang1.txt" 2>&1
took=$(($(now_ms) - t0))
expect_grep "hanging server: clean body allowed" "$tmp/s_hang1.txt" "ICAP/1.0 204"
access_line http://dl.webwarden.test/hang1 >"$tmp/a_hang1.txt"
expect_grep "access log: smart=skipped" "$tmp/a_hang1.txt" "smart=skipped"
# In c-icap (the ms attribute: request start to verdict) and as the client saw it, which adds
# the client's start-up and OPTIONS round trip (slow on a loaded machine: compared to a baseline).
ms=$(access_ms "$tmp/a_hang1.txt")
if [ -n "$ms" ] && [ "$ms" -lt 3000 ]; then ok "hanging server: request took $ms ms in c-icap (< 1.5 s + margin)"; else
    fail "hanging server: request took '$ms' ms in c-icap, want < 3000"; fi
if [ "$took" -lt $((base_took + 3000)) ]; then ok "hanging server: $took ms at the client (baseline $base_took ms)"; else
    fail "hanging server: $took ms at the client, baseline $base_took ms"; fi
icap -s webwarden_scan -f "$tmp/local_bad.bin" -resp 'http://dl.webwarden.test/local_bad2' -v >"$tmp/s_local2.txt" 2>&1
expect_grep "hanging server: local detection blocks" "$tmp/s_local2.txt" "Threat=Webwarden.Test.Local"
sps_mode normal || fail "cannot switch the fake to normal"

# --- health checks: 3 failures switch to conventional ----------------------------------------
sps_mode refuse -1 || fail "cannot take the fake down"
"$WWD" -c "$tmp/webwarden.conf" --foreground 2>"$tmp/wwd.err" &
wwd_pid=$!
is_conventional() { ctl status >"$tmp/st.txt" 2>&1 && grep -q "Scan method: *conventional" "$tmp/st.txt"; }
# 3 checks at 1 s intervals (+ jitter) against a refusing server
if wait_for 20 is_conventional; then ok "after 3 failed health checks status says conventional"; else
    fail "scan method not conventional:"; cat "$tmp/st.txt" "$tmp/wwd.err"; fi
switched=$(now_ms)
ctl scan-method >"$tmp/sm.txt" 2>&1
expect_grep "scan-method shows who switched" "$tmp/sm.txt" "webwardend"
expect_grep "scan-method shows why" "$tmp/sm.txt" "3 consecutive failed health checks of $sps_base"
# status, at a glance: the fall-back is a problem to act on, with the way back.
expect_grep "status: health needs attention" "$tmp/st.txt" "Health:        ATTENTION"
expect_grep "status: smart scan off is a problem, with the command" "$tmp/st.txt" "smart scan is off since"
expect_grep "status: the command to re-enable" "$tmp/st.txt" "webwardenctl scan-method smart"
expect_grep "status: the server is failing" "$tmp/st.txt" "  smart scan   failing "
expect_grep "status: the failed checks are counted" "$tmp/st.txt" "failed checks in a row)"
expect_grep "status: the switch is among the recent warnings" "$tmp/st.txt" "scan method changed to conventional"
ctl events >"$tmp/events.txt" 2>&1
expect_grep "events say why" "$tmp/events.txt" "scan method changed to conventional by webwardend: 3 consecutive failed health checks of $sps_base"
ww_stop_pids "$wwd_pid"
wwd_pid=""
wait_for 5 grep -q "SMART SCAN SWITCHED OFF" "$tmp/wwd.err" "$tmp/wwd.log" 2>/dev/null
if grep -q "SMART SCAN SWITCHED OFF" "$tmp/wwd.err" "$tmp/wwd.log" 2>/dev/null; then
    ok "webwardend logged the switch loudly"; else fail "no SMART SCAN SWITCHED OFF line"; cat "$tmp/wwd.err"; fi

# c-icap's children see the change within 2 s (their 1 s tick): the server, back now, is not
# called any more, and no request waits for it even when it hangs.
sps_back || fail "the fake did not come back"
while [ $(($(now_ms) - switched)) -lt 2000 ]; do sleep 0.1; done # the 2 s the SPEC allows
before=$(sps_count requests)
for i in 1 2 3 4; do
    icap -s webwarden_scan -f "$(fresh conv$i)" -resp "http://dl.webwarden.test/conv$i" >/dev/null 2>&1
done
icap -s webwarden_scan -f "$tmp/cloud_bad.bin" -resp 'http://dl.webwarden.test/conv-cloud' -v >"$tmp/s_conv_cloud.txt" 2>&1
after=$(sps_count requests)
if [ "$before" = "$after" ]; then ok "conventional scan: c-icap no longer calls the server ($after lookups)"; else
    fail "conventional scan: lookups went from $before to $after"; fi
access_line http://dl.webwarden.test/conv4 >"$tmp/a_conv4.txt"
expect_grep "access log: smart=off" "$tmp/a_conv4.txt" "smart=off"
expect_grep "conventional scan: a cloud-only threat is not blocked" "$tmp/s_conv_cloud.txt" "ICAP/1.0 204"
sps_mode hang || fail "cannot switch the fake to hang"
t0=$(now_ms)
icap -s webwarden_scan -f "$(fresh conv_hang)" -resp 'http://dl.webwarden.test/conv_hang' >/dev/null 2>&1
took=$(($(now_ms) - t0))
access_line http://dl.webwarden.test/conv_hang >"$tmp/a_conv_hang.txt"
ms=$(access_ms "$tmp/a_conv_hang.txt")
if [ -n "$ms" ] && [ "$ms" -lt 1000 ] && [ "$took" -lt $((base_took + 3000)) ]; then
    ok "conventional scan: no wait on a hanging server ($ms ms in c-icap, $took ms at the client)"; else
    fail "conventional scan: '$ms' ms in c-icap, $took ms at the client (baseline $base_took) with the server hanging"; fi
sps_mode normal || fail "cannot switch the fake to normal"

# --- re-enabling is the admin's act, and checks the server first ------------------------------
sps_mode refuse -1 || fail "cannot take the fake down"
ctl scan-method smart >"$tmp/re1.out" 2>"$tmp/re1.err"
rc=$?
if [ "$rc" = 1 ] && is_conventional; then ok "scan-method smart fails while the server is down"; else
    fail "scan-method smart with the server down: exit $rc"; cat "$tmp/re1.out" "$tmp/re1.err"; fi
expect_grep "the error names the server" "$tmp/re1.err" "$sps_base"
ctl scan-method smart --force >"$tmp/re2.out" 2>&1 || fail "scan-method smart --force: exit $?"
ctl status >"$tmp/st2.txt" 2>&1
expect_grep "--force switches while the server is down" "$tmp/st2.txt" "smart"
ctl scan-method conventional >/dev/null 2>&1 || fail "scan-method conventional"
sps_back || fail "the fake did not come back"
ctl scan-method smart >"$tmp/re3.out" 2>&1 || { fail "scan-method smart with the server up: exit $?"; cat "$tmp/re3.out"; }
ctl scan-method >"$tmp/sm3.txt" 2>&1
expect_grep "back to smart, set by the administrator" "$tmp/sm3.txt" "webwardenctl"
if grep -q "^smart" "$tmp/sm3.txt"; then ok "scan method is smart again"; else fail "not smart:"; cat "$tmp/sm3.txt"; fi
# and the running c-icap uses the server again within 2 s
uses_server_again() {
    n=$(sps_count requests)
    icap -s webwarden_scan -f "$(fresh again)" -resp 'http://dl.webwarden.test/again' >/dev/null 2>&1
    [ "$(sps_count requests)" -gt "$n" ]
}
if wait_for 5 uses_server_again; then ok "c-icap calls the server again after re-enabling"; else
    fail "c-icap did not call the server again"; fi
ctl status >"$tmp/st3.txt" 2>&1
expect_no_grep "status after re-enabling: no smart-scan problem" "$tmp/st3.txt" "smart scan is off since"

if [ "$fails" -eq 0 ]; then
    status=0
    echo "all smart-scan checks passed"
fi
exit "$status"
