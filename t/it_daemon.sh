#!/bin/sh
# t/it_daemon.sh - webwardend as tests and systemd run it (--foreground) and detached: pid file,
# job results in the store, the per-database lock, SIGHUP with a broken config, SIGTERM in 5 s.
set -u

builddir=${top_builddir:-.}
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/t/wwenv.sh"
WWD="$builddir/src/webwardend"
CTL="$builddir/src/webwardenctl"
PY=${PYTHON3:-python3}
for p in "$WWD" "$CTL"; do [ -x "$p" ] || { echo "missing $p: build first"; exit 1; }; done
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/it_daemon.XXXXXX") || exit 1
pids=""
cleanup() {
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fails=0

conf="$tmp/webwarden.conf"
pidfile="$tmp/run/sub/webwardend.pid"
write_conf() { # $1 = feedback interval
    cat >"$conf" <<EOF
[state]
database = $tmp/state.db
[daemon]
pid_file = $pidfile
log_file = $tmp/daemon.log
[feedback]
server = http://127.0.0.1:9/
interval_s = $1
[smart_scan]
health_interval_s = 1
[update]
interval_s = 2
[license]
check_interval_s = 2
EOF
}
write_conf 1
ctlconf="$tmp/ctl.conf" # webwardenctl's own copy: $conf is broken on purpose below
cp "$conf" "$ctlconf"

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
pidfile_is() { [ -f "$pidfile" ] && [ "$(cat "$pidfile")" = "$1" ]; }
status_json() { "$CTL" -c "$ctlconf" status --json >"$tmp/st.json" 2>"$tmp/st.err"; }
# jq-less check of the status JSON: the Python expression over d must be true
status_has() {
    status_json && "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$tmp/st.json" "$1" 2>/dev/null
}
log_has() { grep -q -- "$2" "$1"; }

# ---- foreground
"$WWD" -c "$conf" --foreground 2>"$tmp/fg.log" &
fg=$!
pids="$pids $fg"
if wait_for 10 pidfile_is "$fg"; then ok "foreground daemon wrote its pid file (folder created)"; else
    fail "no pid file $pidfile with $fg"; cat "$tmp/fg.log"; fi
all_ran='all(d["jobs"][j]["last_run"] for j in ("feedback", "health", "update", "license"))'
if wait_for 10 status_has "$all_ran"; then ok "every job ran and recorded its result"; else
    fail "jobs did not all run: $(cat "$tmp/st.json" "$tmp/st.err")"; fi
status_has 'd["jobs"]["feedback"]["ok"] is True and d["jobs"]["feedback"]["result"] == "queue empty"' &&
    ok "configured feedback server, empty queue: job reports queue empty" || fail "feedback job: $(cat "$tmp/st.json")"
status_has 'd["jobs"]["health"]["ok"] is True and d["jobs"]["health"]["result"] == "not configured"' &&
    ok "no smart-scan server: health job reports not configured" || fail "health job: $(cat "$tmp/st.json")"
status_has 'd["jobs"]["update"]["next_run"] >= d["jobs"]["update"]["last_run"]' &&
    ok "next run is after the last run" || fail "next_run: $(cat "$tmp/st.json")"
status_has "d['daemon'] == {'running': True, 'pid': $fg}" && ok "status shows the daemon running" ||
    fail "status daemon: $(cat "$tmp/st.json")"
"$CTL" -c "$ctlconf" status >"$tmp/st.txt" 2>&1
grep -q "Daemon: *running (pid $fg)" "$tmp/st.txt" && grep -q "^  feedback .*queue empty" "$tmp/st.txt" &&
    ok "human status shows jobs and daemon" || { fail "human status:"; cat "$tmp/st.txt"; }

# ---- a second daemon on the same database refuses, naming the first
timeout 10 "$WWD" -c "$conf" --foreground >"$tmp/second.out" 2>"$tmp/second.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "pid $fg" "$tmp/second.err"; then ok "second instance refuses, naming pid $fg"; else
    fail "second instance: exit $rc, stderr: $(cat "$tmp/second.err")"; fi
pidfile_is "$fg" && ok "the refused instance left the pid file alone" || fail "pid file changed: $(cat "$pidfile")"
alive "$fg" && ok "first daemon still running" || fail "first daemon died"

# ---- SIGHUP with a broken config: logged with file:line, the old config stays
cp "$conf" "$tmp/good.conf"
printf '[state]\ndatabase = %s/state.db\n[feedback]\ninterval_s = soon\n' "$tmp" >"$conf"
kill -HUP "$fg"
if wait_for 5 log_has "$tmp/fg.log" "reload failed.*$conf:4"; then ok "broken reload is logged with $conf:4"; else
    fail "no reload error in log:"; cat "$tmp/fg.log"; fi
alive "$fg" && ok "daemon survives a broken config" || fail "daemon died on a broken config"
status_json
before=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"]["health"]["last_run"])' "$tmp/st.json")
if wait_for 6 status_has "d['jobs']['health']['last_run'] != '$before'"; then ok "jobs keep running after the failed reload"; else
    fail "health job stopped after the failed reload"; fi

# ---- SIGHUP with a good config: reloaded
write_conf 7
kill -HUP "$fg"
if wait_for 5 log_has "$tmp/fg.log" "config reloaded"; then ok "good config is reloaded"; else
    fail "no reload line:"; cat "$tmp/fg.log"; fi

# ---- SIGTERM: exit 0 within 5 s, pid file removed
kill -TERM "$fg"
if wait_for 5 dead "$fg"; then ok "SIGTERM stops the daemon within 5 s"; else fail "still running 5 s after SIGTERM"; fi
wait "$fg"
rc=$?
[ "$rc" -eq 0 ] && ok "exit code 0 after SIGTERM" || fail "exit code $rc after SIGTERM"
[ ! -e "$pidfile" ] && ok "pid file removed" || fail "pid file left behind"
status_has "d['daemon']['running'] is False" && ok "status shows the daemon stopped" || fail "status: $(cat "$tmp/st.json")"

# ---- detached (no --foreground): returns once started, logs to daemon.log_file
timeout 15 "$WWD" -c "$conf" >"$tmp/bg.out" 2>"$tmp/bg.err"
rc=$?
[ "$rc" -eq 0 ] && ok "detached start returns 0" || fail "detached start: exit $rc: $(cat "$tmp/bg.err")"
if wait_for 5 test -s "$pidfile"; then
    bg=$(cat "$pidfile")
    pids="$pids $bg"
    ok "detached daemon wrote pid $bg"
else
    bg=""
    fail "detached daemon wrote no pid file"
fi
if [ -n "$bg" ]; then
    wait_for 5 log_has "$tmp/daemon.log" "webwardend\[$bg\] info: started" && ok "detached daemon logs to daemon.log_file" ||
        { fail "no start line in daemon.log:"; cat "$tmp/daemon.log"; }
    timeout 15 "$WWD" -c "$conf" >"$tmp/bg2.out" 2>"$tmp/bg2.err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "pid $bg" "$tmp/bg2.err" && ok "second detached start fails, naming pid $bg" ||
        fail "second detached start: exit $rc: $(cat "$tmp/bg2.err")"
    kill -TERM "$bg"
    if wait_for 5 dead "$bg"; then ok "detached daemon stops within 5 s"; else fail "detached daemon still running"; fi
    wait_for 2 test ! -e "$pidfile" && ok "detached daemon removed its pid file" || fail "pid file left by detached daemon"
fi

# ---- a config error at start: exit 1 naming file:line, nothing left behind
printf '[daemon]\nbogus = 1\n' >"$tmp/bad.conf"
timeout 10 "$WWD" -c "$tmp/bad.conf" --foreground >/dev/null 2>"$tmp/bad.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "$tmp/bad.conf:2" "$tmp/bad.err" && ok "bad config at start names file:line" ||
    fail "bad config at start: exit $rc: $(cat "$tmp/bad.err")"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all passed"
exit 0
