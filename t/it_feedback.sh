#!/bin/sh
# t/it_feedback.sh - the feedback queue through an outage and a webwardend restart: nothing is
# lost, and once the server is back every event is counted by it exactly once, also when an
# accepted batch's answer was lost. Uses t/fake_cloud.py; loopback only.
set -u

builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/t/wwenv.sh"
WWD="$builddir/src/webwardend"
CTL="$builddir/src/webwardenctl"
PY=${PYTHON3:-python3}
for p in "$WWD" "$CTL"; do [ -x "$p" ] || { echo "missing $p: build first"; exit 1; }; done
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 not found"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/it_feedback.XXXXXX") || exit 1
fake=""
wwd=""
cleanup() {
    [ -n "$wwd" ] && kill -KILL "$wwd" 2>/dev/null
    [ -n "$fake" ] && kill -KILL "$fake" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fails=0

has_port() { [ -s "$tmp/port" ]; }
dead() { ! kill -0 "$1" 2>/dev/null; }

"$PY" "$srcdir/t/fake_cloud.py" --port-file "$tmp/port" 2>"$tmp/fake.log" &
fake=$!
wait_for 30 has_port || { echo "fake cloud did not start: $(cat "$tmp/fake.log")"; exit 1; }
port=$(cat "$tmp/port")

# control: POST /_mode, GET /_stats value
fake_mode() {
    "$PY" -c 'import json,sys,urllib.request as u
u.urlopen(u.Request("http://127.0.0.1:%s/_mode" % sys.argv[1], json.dumps({"mode": sys.argv[2]}).encode()), timeout=5).read()' "$port" "$1"
}
fake_stat() {
    "$PY" -c 'import json,sys,urllib.request as u
print(json.load(u.urlopen("http://127.0.0.1:%s/_stats" % sys.argv[1], timeout=5))[sys.argv[2]])' "$port" "$1"
}

conf="$tmp/webwarden.conf"
db="$tmp/state.db"
cat >"$conf" <<EOF
[state]
database = $db
[daemon]
pid_file = $tmp/webwardend.pid
log_file = $tmp/daemon.log
[feedback]
server = http://127.0.0.1:$port
interval_s = 1
timeout_ms = 500
batch_size = 7
EOF
"$CTL" -c "$conf" init >"$tmp/init.out" 2>&1 || { echo "init failed: $(cat "$tmp/init.out")"; exit 1; }

# add_events FROM COUNT: rows as a c-icap child's flush would write them
add_events() {
    i=$1
    end=$(($1 + $2))
    {
        echo "BEGIN;"
        while [ "$i" -lt "$end" ]; do
            echo "INSERT INTO feedback_queue (url, score, categories, action, threat, at) VALUES ('http://e$i.example/', 42, 'news', 'allow', '', strftime('%s','now'));"
            i=$((i + 1))
        done
        echo "COMMIT;"
    } | sqlite3 -cmd ".timeout 5000" "$db"
}
queued() { sqlite3 -cmd ".timeout 5000" "$db" 'SELECT count(*) FROM feedback_queue'; }
queue_is() { [ "$(queued)" = "$1" ]; }
job_failed_since() { # $1 = last_run value before
    v=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT value FROM kv WHERE key = 'job.feedback.last_run'")
    ok_v=$(sqlite3 -cmd ".timeout 5000" "$db" "SELECT value FROM kv WHERE key = 'job.feedback.ok'")
    [ -n "$v" ] && [ "$v" != "$1" ] && [ "$ok_v" = "0" ]
}
last_run() { sqlite3 -cmd ".timeout 5000" "$db" "SELECT value FROM kv WHERE key = 'job.feedback.last_run'"; }
start_wwd() {
    "$WWD" -c "$conf" --foreground 2>>"$tmp/wwd.log" &
    wwd=$!
}
stop_wwd() {
    kill -TERM "$wwd"
    wait_for 6 dead "$wwd" || fail "webwardend did not stop within 5 s"
    wait "$wwd" 2>/dev/null
    wwd=""
}

# ---- server down: the queue is kept, across a restart of webwardend
add_events 1 30
fake_mode hang || { echo "cannot set the fake's mode"; exit 1; }
start_wwd
if wait_for 20 job_failed_since ""; then ok "feedback job failed against a hanging server"; else
    fail "no failed feedback run: $(sqlite3 "$db" "SELECT * FROM kv WHERE key LIKE 'job.feedback%'")"; fi
queue_is 30 && ok "30 events kept after a failed upload" || fail "queue has $(queued), want 30"
"$CTL" -c "$conf" feedback flush >"$tmp/flush.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "unavailable: timeout; 30 events kept" "$tmp/flush.out"; then
    ok "feedback flush against a hanging server exits $rc with the reason"; else
    fail "feedback flush: exit $rc: $(cat "$tmp/flush.out")"; fi
stop_wwd
fake_mode normal
# The server accepts the next batch but its answer is lost: the client times out.
fake_mode lost
"$CTL" -c "$conf" feedback flush >"$tmp/flush.out" 2>&1 && fail "flush with a lost answer exited 0"
[ "$(fake_stat events)" = "7" ] && ok "server counted the first batch (7) whose answer was lost" ||
    fail "server events $(fake_stat events), want 7"
queue_is 30 && ok "queue still 30 after the lost answer" || fail "queue has $(queued), want 30"
add_events 100 5
"$CTL" -c "$conf" feedback status >"$tmp/fbstatus.out" 2>&1
grep -q "35" "$tmp/fbstatus.out" && grep -qi "unconfirmed" "$tmp/fbstatus.out" &&
    ok "feedback status shows 35 queued and the unconfirmed batch" ||
    fail "feedback status: $(cat "$tmp/fbstatus.out")"
before=$(last_run)
fake_mode down # the fake closes its port: connections are refused until SIGUSR1
start_wwd
if wait_for 20 job_failed_since "$before"; then ok "restarted webwardend: server down, upload failed"; else
    fail "restarted daemon did not run the feedback job"; fi
grep -q "unreachable" "$tmp/wwd.log" && ok "daemon log names the refused connection" ||
    fail "no 'unreachable' in the daemon log"
queue_is 35 && ok "35 events kept across the restart" || fail "queue has $(queued), want 35"

# ---- server back: everything delivered, each event counted once
kill -USR1 "$fake"
if wait_for 20 queue_is 0; then ok "queue delivered after recovery, nothing else needed"; else
    fail "queue still has $(queued) events"; fi
ev=$(fake_stat events)
dup=$(fake_stat duplicates)
[ "$ev" = "35" ] && ok "server counted 35 events exactly once (duplicates answered: $dup)" ||
    fail "server counted $ev events, want 35"
[ "$dup" -ge 1 ] 2>/dev/null && ok "the lost batch was resent under its id and not counted twice" ||
    fail "no duplicate batch seen ($dup)"
stop_wwd
"$CTL" -c "$conf" status >"$tmp/status.out" 2>&1
grep -q "Feedback: .*0 queued, 0 dropped" "$tmp/status.out" && ok "status: 0 queued, 0 dropped" ||
    fail "status: $(cat "$tmp/status.out")"

[ "$fails" -eq 0 ] || { echo "$fails failure(s); daemon log:"; cat "$tmp/wwd.log"; exit 1; }
exit 0
