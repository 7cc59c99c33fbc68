#!/bin/sh
# t/it_faults.sh - the fault suite (issue 6): c-icap with both services plus webwardend under a
# bounded ICAP load (bench/icapload: REQMOD c=2 and RESPMOD c=2 for the whole of each step),
# while in turn the smart-scan and reputation fakes hang / refuse / answer garbage / come back,
# a c-icap child and webwardend are killed with SIGKILL, the state database is locked for 3 s
# and a pattern file is corrupted on disk. After each step: no failed or hung ICAP request
# beyond the documented bounds, the right scan method, the right pattern version, no lost
# feedback. Prints "what was tried | what held | figure". Long: runs only with WW_LONG=1
# (./quickstart test --long), otherwise exits 77. Total well under 5 minutes.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
if [ "${WW_LONG:-}" != 1 ]; then
    echo "SKIP: the fault suite runs only with WW_LONG=1 (./quickstart test --long)"
    exit 77
fi
. "$top_srcdir/t/wwenv.sh"

PY=${PYTHON3:-python3}
CLIENT=${CICAP_CLIENT:-c-icap-client}
CTL="$top_builddir/src/webwardenctl"
WWD="$top_builddir/src/webwardend"
IL="$top_builddir/bench/icapload"
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "$PY" ps sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
for b in "$CTL" "$WWD" "$IL"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done
STEP_S=${WW_FAULT_STEP_S:-8} # seconds of load per step

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-faults.XXXXXX")
fails=0
status=1
wrs_pid='' sps_pid='' wwd_pid='' squid_pid='' origin_pid=''
cleanup() {
    ww_stop_pids $squid_pid $origin_pid
    [ -f "$tmp/var/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    ww_stop_pids $wrs_pid $sps_pid $wwd_pid
    if [ "$status" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 30 "$tmp/var/log/server.log" 2>/dev/null
        echo "----- webwardend log (tail)"
        tail -n 20 "$tmp/wwd.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ROWS="$tmp/rows.txt"
: >"$ROWS"
row() { printf '%-34s | %-44s | %s\n' "$1" "$2" "$3" >>"$ROWS"; }

# --- fakes ------------------------------------------------------------------------------------
mkdir -p "$tmp/patterns" "$tmp/spool" "$tmp/var" "$tmp/run"
printf 'blocked.webwarden.test\n' >"$tmp/blocked.txt"
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
echo "Webwarden.Test.Eicar.Body:0:*:$(od -An -v -tx1 "$tmp/eicar.com" | tr -d ' \n')" >"$tmp/patterns/test.ndb"
head -c 20480 /dev/urandom >"$tmp/body.bin"
head -c 20480 /dev/urandom >"$tmp/local_bad.bin"
echo "$(sha256sum "$tmp/local_bad.bin" | cut -d' ' -f1):20480:Webwarden.Test.Local" >"$tmp/patterns/test.hsb"
echo '{}' >"$tmp/verdicts.json"

"$PY" "$top_srcdir/t/fake_wrs.py" --port-file "$tmp/wrs.port" >"$tmp/wrs.out" 2>&1 &
wrs_pid=$!
have_sps=0
if [ -r "$top_srcdir/t/fake_sps.py" ]; then
    "$PY" "$top_srcdir/t/fake_sps.py" --port-file "$tmp/sps.port" --verdicts "$tmp/verdicts.json" >"$tmp/sps.out" 2>&1 &
    sps_pid=$!
    have_sps=1
fi
wait_for 20 test -s "$tmp/wrs.port" || { echo "fake_wrs.py did not start"; cat "$tmp/wrs.out"; exit 1; }
[ "$have_sps" = 0 ] || wait_for 20 test -s "$tmp/sps.port" || { echo "fake_sps.py did not start"; exit 1; }
wrs_base="http://127.0.0.1:$(cat "$tmp/wrs.port")"
sps_base="http://127.0.0.1:$(cat "$tmp/sps.port" 2>/dev/null)"

# fake_mode BASE MODE [MS]: switches a fake's mode through its /_mode endpoint.
fake_mode() {
    "$PY" - "$1" "$2" "${3:-0}" <<'EOF'
import json, sys, urllib.request
base, mode, ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
req = urllib.request.Request(base + "/_mode", data=json.dumps({"mode": mode, "ms": ms}).encode(),
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()
EOF
}

{
    cat <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state.db
[daemon]
pid_file = $tmp/run/webwardend.pid
log_file = $tmp/wwd.log
[lists]
blocked = $tmp/blocked.txt
[reputation]
server = $wrs_base
timeout_ms = 500
[scan]
patterns_dir = $tmp/patterns
tmp_dir = $tmp/spool
EOF
    if [ "$have_sps" = 1 ]; then
        cat <<EOF
[smart_scan]
server = $sps_base
timeout_ms = 1500
health_interval_s = 1
failures_to_fallback = 3
EOF
    fi
} >"$tmp/webwarden.conf"
ctl() { "$CTL" -c "$tmp/webwarden.conf" "$@"; }
ctl init >/dev/null || { echo "webwardenctl init failed"; exit 1; }

start_wwd() {
    "$WWD" -c "$tmp/webwarden.conf" --foreground >>"$tmp/wwd.out" 2>&1 &
    wwd_pid=$!
    wait_for 20 test -s "$tmp/run/webwardend.pid"
}
start_wwd || fail "webwardend did not start"

port=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/webwarden.conf" "$tmp/var" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1
main_pid=$(cat "$tmp/var/c-icap.runpid")

# Squid in front, as an admin runs it (bypass=off), with a loopback origin: a small page and a
# 300 KiB download (over scan.hold_max: streamed while scanned).
have_squid=0
if command -v "${SQUID_BIN:-/usr/sbin/squid}" >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then
    chmod 755 "$tmp" # Squid runs as `proxy` when started by root and must reach its folder
    mkdir -p "$tmp/www"
    head -c 1024 /dev/urandom >"$tmp/www/small.bin"
    head -c 307200 /dev/urandom >"$tmp/www/big.bin"
    oport=$(ww_start_origin "$tmp/www" "$tmp/origin.pid") || { echo "origin did not start"; exit 1; }
    origin_pid=$(cat "$tmp/origin.pid")
    sport=$(ww_free_port)
    ww_squid_conf "$tmp/squid.conf" "$sport" "$port" "$tmp/var" || exit 1
    ww_start_squid "$tmp/squid.conf" "$tmp/var" "http://blocked.webwarden.test/probe" ||
        { echo "squid did not start"; exit 1; }
    squid_pid=$(cat "$tmp/var/squid.runpid")
    have_squid=1
else
    echo "note: squid or curl not installed: the HTTP load through Squid is left out"
fi
children() { ps -o pid= --ppid "$main_pid" | tr -d ' ' | sort -n | tr '\n' ' '; }

# status_field KEY...: a value from `webwardenctl status --json` (nested keys).
status_field() {
    ctl status --json 2>/dev/null | "$PY" -c 'import json, sys
j = json.load(sys.stdin)
for k in sys.argv[1:]:
    j = j.get(k) if isinstance(j, dict) else None
print(j if j is not None else "-")' "$@"
}
scan_method() { status_field scan_method method; }
fb_queued() { status_field feedback queued; }
fb_dropped() { status_field feedback dropped; }

# step NAME BOUND_MS MAX_ERRORS ACTION: runs the REQMOD and RESPMOD loads (and HTTP through
# Squid) for STEP_S seconds, runs ACTION (a shell function) 1.5 s into the window, then checks:
# errors+timeouts of the ICAP loads <= MAX_ERRORS, of the Squid load too, and the largest latency
# of either below BOUND_MS; records a table row.
step() {
    _name=$1 _bound=$2 _maxerr=$3 _act=$4
    "$IL" -P "$port" -s webwarden_url -m reqmod -u 'http://www.example.com/x' -c 2 -d "$STEP_S" -t 5000 --json \
        >"$tmp/req.json" 2>/dev/null &
    _lr=$!
    "$IL" -P "$port" -s webwarden_scan -f "$tmp/body.bin" -p 1024 -c 2 -d "$STEP_S" -t 5000 --json \
        >"$tmp/resp.json" 2>/dev/null &
    _ls=$!
    _lq=
    echo '{"requests": 0, "errors": 0, "timeouts": 0, "max_ms": 0}' >"$tmp/squid.json"
    if [ "$have_squid" = 1 ]; then
        "$PY" "$top_srcdir/t/proxyload.py" --proxy "127.0.0.1:$sport" -c 2 -d "$STEP_S" -t 5 --unique \
            --url "http://127.0.0.1:$oport/small.bin:1024" --url "http://127.0.0.1:$oport/big.bin:307200" \
            >"$tmp/squid.json" 2>"$tmp/squid.err" &
        _lq=$!
    fi
    sleep 1.5 # let the load run before the fault (timing, not synchronisation)
    _held=$($_act)
    wait "$_lr" "$_ls" $_lq
    _fig=$("$PY" - "$tmp/req.json" "$tmp/resp.json" <<'EOF'
import json, sys
tot = {"req": 0, "err": 0, "max": 0.0}
for f in sys.argv[1:]:
    try:
        j = json.load(open(f))
    except Exception:
        print("nojson 0 0 0"); sys.exit()
    tot["req"] += j["requests"]
    tot["err"] += j["errors"] + j["timeouts"]
    tot["max"] = max(tot["max"], j["latency_ms"]["max"])
print("ok %d %d %.0f" % (tot["req"], tot["err"], tot["max"]))
EOF
)
    _sq=$("$PY" -c 'import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print("%d %d %.0f %d %s" % (j["requests"], j["errors"] + j["timeouts"], j["max_ms"],
                                j.get("retried", 0),
                                (j.get("first_error") or "-").replace(" ", "_")[:120]))
except Exception as e:
    print("0 -1 0 0 no-result")' "$tmp/squid.json")
    set -- $_fig
    if [ "$1" != ok ]; then
        fail "$_name: a load generator gave no result"
        row "$_name" "NO RESULT" "-"
        return
    fi
    _fig="$2 req, $3 err, max ${4} ms (bound $_bound)"
    _icap_ok=0
    [ "$3" -le "$_maxerr" ] && [ "$4" -lt "$_bound" ] && [ "$2" -gt 0 ] && _icap_ok=1
    if [ "$have_squid" = 1 ]; then
        # shellcheck disable=SC2086
        set -- $_sq
        _fig="$_fig; squid: $1 req, $2 err, max $3 ms, $4 retried"
        [ "$2" -ge 0 ] && [ "$2" -le "$_maxerr" ] && [ "$3" -lt "$_bound" ] && [ "$1" -gt 0 ] ||
            { _icap_ok=0; [ "$5" = - ] || _fig="$_fig (first: $5)"; }
    fi
    if [ "$_icap_ok" = 1 ]; then
        ok "$_name: $_fig"
        row "$_name" "${_held:-requests within bounds}" "$_fig"
    else
        fail "$_name: $_fig (want <= $_maxerr errors, max < $_bound ms)"
        row "$_name" "FAILED: ${_held:-}" "$_fig"
    fi
}

# --- the steps --------------------------------------------------------------------------------
act_none() { echo "baseline"; }
step "baseline, all servers up" 1000 0 act_none

# Reputation: the Squid load asks for a new URL each time (no cached rating), so each request
# meets the fault until the back-off takes over; icapload repeats one URL (cached).
act_wrs_hang() { fake_mode "$wrs_base" hang; echo "reputation hangs: <= 0.5 s + margin"; }
step "reputation server hangs" 1500 0 act_wrs_hang
act_wrs_refuse() { fake_mode "$wrs_base" refuse 4000; echo "reputation refuses"; }
step "reputation server refuses" 1500 0 act_wrs_refuse
act_wrs_garbage() { fake_mode "$wrs_base" malformed; echo "reputation answers garbage"; }
step "reputation server answers garbage" 1500 0 act_wrs_garbage
act_wrs_back() { fake_mode "$wrs_base" normal; echo "reputation back, nothing to do"; }
step "reputation server comes back" 1500 0 act_wrs_back

if [ "$have_sps" = 1 ]; then
    [ "$(scan_method)" = smart ] || ctl scan-method smart --force --reason fault-suite >/dev/null
    act_sps_garbage() { fake_mode "$sps_base" malformed; echo "smart scan garbage: skipped"; }
    step "smart scan answers garbage" 2500 0 act_sps_garbage
    fake_mode "$sps_base" normal
    ctl scan-method smart --force --reason fault-suite >/dev/null
    act_sps_hang() { fake_mode "$sps_base" hang; echo "smart scan hangs: <= 1.5 s + margin"; }
    step "smart scan server hangs" 2500 0 act_sps_hang
    # 3 failed health checks (1 s apart) switch the method to conventional.
    if wait_for 15 sh -c "[ \"\$($CTL -c $tmp/webwarden.conf status --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"scan_method\"][\"method\"])')\" = conventional ]"; then
        ok "smart scan hanging: method fell back to conventional"
        row "  -> scan method after 3 failed checks" "conventional" "$(status_field scan_method reason)"
    else
        fail "smart scan hanging: method still $(scan_method)"
        row "  -> scan method after 3 failed checks" "FAILED: $(scan_method)" "-"
    fi
    act_sps_refuse() { fake_mode "$sps_base" refuse 4000; echo "smart scan refuses (conventional)"; }
    step "smart scan server refuses" 2500 0 act_sps_refuse
    act_sps_back() { fake_mode "$sps_base" normal; echo "smart scan back"; }
    step "smart scan server comes back" 2500 0 act_sps_back
    if ctl scan-method smart >/dev/null 2>&1 && [ "$(scan_method)" = smart ]; then
        ok "admin re-enables smart scan"
        row "  -> webwardenctl scan-method smart" "smart again (server checked first)" "-"
    else
        fail "admin could not re-enable smart scan: $(scan_method)"
        row "  -> webwardenctl scan-method smart" "FAILED" "$(scan_method)"
    fi
else
    row "smart scan faults" "not run: t/fake_sps.py absent" "-"
fi

# A killed child drops the requests it was serving (the ICAP client sees a reset: Squid
# retries or bypasses); c-icap starts a new child and nothing else fails.
act_kill_child() {
    _c=$(ps -o pid= --ppid "$main_pid" | tr -d ' ' | head -1)
    kill -9 "$_c"
    echo "child $_c killed, c-icap replaced it"
}
step "kill -9 a c-icap child" 1500 4 act_kill_child
wait_for 10 sh -c "[ \$(ps -o pid= --ppid $main_pid | wc -l) -ge 2 ]" || fail "c-icap did not replace the child"

q0=$(fb_queued)
act_kill_wwd() {
    kill -9 "$wwd_pid"
    rm -f "$tmp/run/webwardend.pid"
    "$WWD" -c "$tmp/webwarden.conf" --foreground >>"$tmp/wwd.out" 2>&1 &
    echo "webwardend killed and restarted (pid $!)"
    echo "$!" >"$tmp/wwd.newpid"
}
step "kill -9 webwardend, restart it" 1000 0 act_kill_wwd
wwd_pid=$(cat "$tmp/wwd.newpid")
if wait_for 15 test -s "$tmp/run/webwardend.pid" && kill -0 "$wwd_pid" 2>/dev/null; then
    ok "webwardend runs again after SIGKILL (stale lock taken over)"
else
    fail "webwardend did not come back after SIGKILL"
    tail -5 "$tmp/wwd.out"
fi

act_lock_db() {
    "$PY" - "$tmp/state.db" >/dev/null 2>&1 <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
time.sleep(3)
c.execute("COMMIT")
EOF
    echo "state.db held EXCLUSIVE for 3 s"
}
step "state database locked 3 s" 1000 0 act_lock_db

# A pattern file corrupted on disk, then c-icap reconfigured: bad lines are skipped, the
# good signatures still detect.
act_corrupt() {
    head -c 3000 /dev/urandom >>"$tmp/patterns/test.ndb"
    printf 'not:a:valid\n\0\0\0:::\n' >>"$tmp/patterns/test.hsb"
    printf 'reconfigure' >"$tmp/var/run/c-icap.ctl"
    echo "pattern files corrupted, c-icap reconfigured"
}
step "pattern file corrupted on disk" 1500 0 act_corrupt
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -f "$tmp/eicar.com" -resp 'http://dl.webwarden.test/e' -v >"$tmp/r_eicar.txt" 2>&1
if grep -q "X-Infection-Found" "$tmp/r_eicar.txt"; then
    ok "after the corrupt pattern file: EICAR still detected"
    row "  -> detection after corruption" "EICAR still detected" "-"
else
    fail "after the corrupt pattern file: EICAR not detected"
    row "  -> detection after corruption" "FAILED: not detected" "$(head -1 "$tmp/r_eicar.txt")"
fi
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -f "$tmp/local_bad.bin" -resp 'http://dl.webwarden.test/l' -v >"$tmp/r_local.txt" 2>&1
grep -q "Webwarden.Test.Local" "$tmp/r_local.txt" && ok "hash signature before the bad line still detects" ||
    fail "hash signature lost after the corrupt line"

# Feedback: nothing uploads in this suite (no feedback server) while every rated request is
# queued (tens of thousands a second under icapload), so the queue fills: it must stay bounded by
# feedback.max_queued (default 100000) and count what it drops in `webwardenctl status`, never
# lose events silently (queued + dropped only grows).
q1=$(fb_queued)
d1=$(fb_dropped)
if [ "${q1:-0}" -le 100000 ] && [ $((${q1:-0} + ${d1:-0})) -ge "${q0:-0}" ] 2>/dev/null; then
    ok "feedback queue bounded and counted ($q0 -> $q1 queued, $d1 dropped, shown in status)"
    row "feedback queue through the faults" "bounded, every drop counted" "$q0 -> $q1 queued, $d1 dropped"
else
    fail "feedback queue: $q0 -> $q1 queued, $d1 dropped"
    row "feedback queue through the faults" "FAILED" "$q0 -> $q1 queued, $d1 dropped"
fi

kill -0 "$main_pid" 2>/dev/null || fail "c-icap main process died"
if [ "$have_squid" = 1 ]; then
    kill -0 "$squid_pid" 2>/dev/null && ok "Squid still running" || fail "Squid died"
fi

echo
[ "$have_squid" = 1 ] && echo "Load in every step: icapload REQMOD c=2 + RESPMOD 20 KiB c=2 on c-icap, and t/proxyload.py c=2 through Squid (1 KiB page and 300 KiB download, alternating; a new URL each time, so every one is rated), ${STEP_S} s."
printf '%-34s | %-44s | %s\n' "what was tried" "what held" "figure"
echo "----------------------------------------------------------------------------------------------------------------"
cat "$ROWS"
if [ "$fails" -eq 0 ]; then
    status=0
    echo "PASS: it_faults"
    exit 0
fi
echo "$fails check(s) failed"
exit 1
