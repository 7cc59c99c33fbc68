#!/bin/sh
# t/it_reputation.sh - web reputation in REQMOD (issue 3) through a real c-icap and the fake
# reputation server t/fake_wrs.py: decisions per sensitivity, dangerous scores and blocked
# categories with the block page, unrated URLs, the 0.5 s rule against a slow, hanging or broken
# server, back-off on and off, recovery, the local URL database and its hot reload, the access
# log, and `webwardenctl url-check`. Needs a built tree (make), run by `make check`.
#
# Three c-icap instances share the fake server, each with ONE child (so the child's back-off
# state is the whole server's, and counts are exact):
#   A  medium, unrated allow, back-off on (3 failures, 30 s), blocked category gambling, urldb
#   B  high,   unrated block, back-off off
#   C  low,    unrated allow, back-off off
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
PY=${PYTHON3:-python3}
CTL="$top_builddir/src/webwardenctl"
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "$PY" sqlite3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$CTL" ] || { echo "FAIL: $CTL not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-rep.XXXXXX")
fails=0
status=1
fake_pid=
cleanup() {
    for i in A B C; do
        [ -f "$tmp/var$i/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var$i/c-icap.runpid")"
    done
    [ -n "$fake_pid" ] && ww_stop_pids "$fake_pid"
    if [ "$status" != 0 ]; then
        for i in A B C; do
            echo "----- c-icap $i server.log (tail)"
            tail -n 20 "$tmp/var$i/log/server.log" 2>/dev/null
            echo "----- c-icap $i access.log (tail)"
            tail -n 20 "$tmp/var$i/log/access.log" 2>/dev/null
        done
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- the fake reputation server ----------------------------------------------------------------
"$PY" "$top_srcdir/t/fake_wrs.py" --port-file "$tmp/wrs.port" >"$tmp/wrs.log" 2>&1 </dev/null &
fake_pid=$!
end=$(($(date +%s) + 10))
while [ ! -s "$tmp/wrs.port" ]; do
    kill -0 "$fake_pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ] ||
        { echo "FAIL: fake_wrs did not start"; cat "$tmp/wrs.log"; exit 1; }
    sleep 0.05
done
wrs_port=$(cat "$tmp/wrs.port")
WRS="http://127.0.0.1:$wrs_port"

# wrs_mode MODE [MS] [MAPJSON]: switches the fake (a map replaces the previous one).
wrs_mode() {
    _body="{\"mode\": \"$1\", \"ms\": ${2:-0}${3:+, \"map\": $3}}"
    "$PY" - "$WRS/_mode" "$_body" <<'EOF' >/dev/null || fail "fake_wrs: cannot set mode $1"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
                                              method="POST"), timeout=5).read()
EOF
}
# wrs_count: rating requests the fake has received since the last wrs_reset.
wrs_count() {
    "$PY" - "$WRS/_stats" <<'EOF'
import json, sys, urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1], timeout=5))["requests"])
EOF
}
wrs_reset() {
    "$PY" - "$WRS/_reset" <<'EOF' >/dev/null || fail "fake_wrs: cannot reset"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"{}", method="POST"),
                       timeout=5).read()
EOF
}

# --- config, lists, local URL database -------------------------------------------------------------
printf 'good.webwarden.test\n' >"$tmp/approved.txt"
printf 'blocked.webwarden.test\n' >"$tmp/blocked.txt"
cat >"$tmp/urldb1.txt" <<'EOF'
webwarden-urldb 1 2026.11.27.1
localbad.webwarden.test   10 malware
localok.webwarden.test    95 news
EOF
cat >"$tmp/urldb2.txt" <<'EOF'
webwarden-urldb 1 2026.11.27.2
localbad.webwarden.test   10 malware
reloaded.webwarden.test   15 phishing
EOF

# mkconf NAME SENSITIVITY UNRATED BACKOFF [EXTRA LINES]
mkconf() {
    cat >"$tmp/$1.conf" <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state$1.db
[lists]
approved = $tmp/approved.txt
blocked = $tmp/blocked.txt
[reputation]
server = $WRS
timeout_ms = 500
sensitivity = $2
unrated_action = $3
backoff = $4
backoff_failures = 3
backoff_s = 30
backoff_max_s = 60
blocked_categories = gambling
[urldb]
file = $tmp/urldb1.txt
EOF
    "$CTL" -c "$tmp/$1.conf" init >/dev/null || fail "webwardenctl init ($1)"
}
mkconf A medium allow on
mkconf B high block off
mkconf C low allow off

# One child per instance; the access log gets the reputation source too.
port_of() { # the ICAP port of instance A, B or C
    case $1 in A) echo "$portA" ;; B) echo "$portB" ;; *) echo "$portC" ;; esac
}
start_instance() {
    _p=$(ww_free_port) # taken just before its c-icap starts: no two instances get the same one
    case $1 in A) portA=$_p ;; B) portB=$_p ;; *) portC=$_p ;; esac
    ww_cicap_conf "$tmp/c-icap$1.conf" "$_p" "$tmp/$1.conf" "$tmp/var$1" || exit 1
    sed -i -e 's/^StartServers .*/StartServers 1/' -e 's/^MaxServers .*/MaxServers 1/' \
        "$tmp/c-icap$1.conf"
    ww_start_cicap "$tmp/c-icap$1.conf" "$tmp/var$1" || exit 1
}
start_instance A
start_instance B
start_instance C

# req INSTANCE URL OUTBASE: one REQMOD; headers into OUTBASE.txt, the page into OUTBASE.html,
# the wall time in ms into OUTBASE.ms.
req() {
    _p=$(port_of "$1")
    rm -f "$3.html" # c-icap-client will not overwrite it
    _t0=$(date +%s%N)
    "$CLIENT" -i 127.0.0.1 -p "$_p" -s webwarden_url -req "$2" -v -o "$3.html" >"$3.txt" 2>&1
    _t1=$(date +%s%N)
    echo $(((_t1 - _t0) / 1000000)) >"$3.ms"
}
# decision FILE: allow (204), block (403 page) or other.
decision() {
    if grep -qF "ICAP/1.0 204" "$1"; then echo allow
    elif grep -qF "403 Forbidden" "$1"; then echo block
    else echo other; fi
}
expect_decision() { # DESC INSTANCE URL WANT
    req "$2" "$3" "$tmp/d"
    got=$(decision "$tmp/d.txt")
    if [ "$got" = "$4" ]; then ok "$1 ($got)"; else
        fail "$1: $3 on $2 gave $got, want $4"
        cat "$tmp/d.txt"
    fi
}
ms_of() { cat "$1.ms"; }
# module_ms INSTANCE URL: the time webwarden_url spent deciding URL (access log, whole ms),
# polled: c-icap writes the line after the response. Empty if it never came.
module_ms() {
    _end=$(($(date +%s) + 5))
    while :; do
        _l=$(grep -F " url=$2 " "$tmp/var$1/log/access.log" 2>/dev/null | tail -1)
        [ -n "$_l" ] && { echo "$_l" | sed -n 's/.* ms=\([0-9]*\)[.0-9]* .*/\1/p'; return; }
        [ "$(date +%s)" -lt "$_end" ] || return
        sleep 0.1
    done
}

# --- normal answers: decisions per sensitivity ------------------------------------------------------
# Scores from the map: medium blocks <= 65, high <= 80, low <= 50.
map='{"http://s45.example/": 45, "http://s60.example/": 60, "http://s75.example/": 75, "http://s90.example/": 90}'
wrs_mode normal 0 "$map"
for s in 45 60 75 90; do
    case $s in 45) a=block b=block c=block ;; 60) a=block b=block c=allow ;;
        75) a=allow b=block c=allow ;; 90) a=allow b=allow c=allow ;; esac
    expect_decision "score $s, medium" A "http://s$s.example/" $a
    expect_decision "score $s, high" B "http://s$s.example/" $b
    expect_decision "score $s, low" C "http://s$s.example/" $c
done

# --- dangerous score: the block page gives score, category and reason ----------------------------
req A 'http://www.bad.webwarden.test/dl?x=1' "$tmp/bad"
expect_grep "dangerous score: HTTP 403" "$tmp/bad.txt" "403 Forbidden"
expect_grep "dangerous score: X-Response-Info" "$tmp/bad.txt" "X-Response-Info: BLOCKED"
expect_grep "dangerous score: X-Response-Desc" "$tmp/bad.txt" "X-Response-Desc: score 20 <= 65 (medium)"
expect_grep "dangerous score: X-Webwarden-Reputation" "$tmp/bad.txt" \
    "X-Webwarden-Reputation: score=20; category=malware; source=server"
expect_grep "dangerous score: page shows the score" "$tmp/bad.html" "20"
expect_grep "dangerous score: page shows the category" "$tmp/bad.html" "malware"
expect_grep "dangerous score: page shows the reason" "$tmp/bad.html" "score 20 &lt;= 65 (medium)"
# The same URL again comes from the child's cache, without a server call.
wrs_reset
req A 'http://www.bad.webwarden.test/dl?x=1' "$tmp/bad2"
expect_grep "cached answer: source cache" "$tmp/bad2.txt" "score=20; category=malware; source=cache"
[ "$(wrs_count)" = 0 ] && ok "cached answer: no server call" || fail "cached answer: server called"

# --- blocked category ------------------------------------------------------------------------------
req A 'http://gamble.example/' "$tmp/gam"
expect_grep "blocked category: 403" "$tmp/gam.txt" "403 Forbidden"
expect_grep "blocked category: reason" "$tmp/gam.html" "category gambling is blocked"
expect_grep "blocked category: score on the page" "$tmp/gam.html" "90"

# --- allowed with the rating in the ICAP header ------------------------------------------------------
req A 'http://news.example/a' "$tmp/news"
expect_grep "safe score: 204" "$tmp/news.txt" "ICAP/1.0 204"
expect_grep "safe score: rating header" "$tmp/news.txt" "score=90; category=news; source=server"

# --- lists come first: no server call ---------------------------------------------------------------
wrs_reset
expect_decision "approved list wins" A 'http://www.good.webwarden.test/' allow
expect_decision "blocked list wins" A 'http://x.blocked.webwarden.test/' block
[ "$(wrs_count)" = 0 ] && ok "lists: no server call" || fail "lists: server called"

# --- local URL database: no server call ---------------------------------------------------------------
req A 'http://www.localbad.webwarden.test/p' "$tmp/ldb"
expect_grep "local db: blocked" "$tmp/ldb.txt" "403 Forbidden"
expect_grep "local db: source" "$tmp/ldb.txt" "score=10; category=malware; source=localdb"
expect_decision "local db: safe entry allowed" A 'http://localok.webwarden.test/' allow
[ "$(wrs_count)" = 0 ] && ok "local db: no server call" || fail "local db: server called"

# --- unrated (the server says 0): the unrated action decides, never the score rule ------------------
expect_decision "unrated, action allow" A 'http://unrated.example/' allow
expect_decision "unrated, action block" B 'http://unrated.example/' block
req B 'http://unrated.example/2' "$tmp/unr"
expect_grep "unrated block: reason" "$tmp/unr.html" "unrated (no rating)"

# --- delay 100 ms: still answered --------------------------------------------------------------------
wrs_mode delay 100
req C 'http://www.bad.webwarden.test/slow' "$tmp/slow"
expect_grep "delay 100 ms: rated by the server" "$tmp/slow.txt" "score=20; category=malware; source=server"
expect_grep "delay 100 ms: blocked" "$tmp/slow.txt" "403 Forbidden"

# --- hang: each request costs at most the timeout (< 1.5 s), unrated, allowed -----------------------
# C has back-off off: every request waits, and each is counted by the fake.
wrs_mode hang
wrs_reset
for i in 1 2 3; do
    req C "http://www.bad.webwarden.test/hang$i" "$tmp/hang$i"
    t=$(ms_of "$tmp/hang$i")
    if [ "$(decision "$tmp/hang$i.txt")" = allow ] && [ "$t" -lt 1500 ] && [ "$t" -ge 400 ]; then
        ok "hang, back-off off: request $i allowed as unrated in $t ms"
    else
        fail "hang, back-off off: request $i: $(decision "$tmp/hang$i.txt") in $t ms (want allow, 400..1500 ms)"
    fi
    expect_grep "hang: request $i unrated (timeout)" "$tmp/hang$i.txt" "score=0; category=unrated; source=timeout"
    m=$(module_ms C "http://www.bad.webwarden.test/hang$i")
    [ -n "$m" ] && [ "$m" -ge 450 ] && [ "$m" -lt 1000 ] && ok "hang: module waited $m ms (timeout 500)" ||
        fail "hang: module time '$m' ms, want about 500"
done
[ "$(wrs_count)" = 3 ] && ok "back-off off: every request asked the server" ||
    fail "back-off off: the fake counted $(wrs_count) calls, want 3"

# --- back-off on: after 3 failures, requests are unrated at once and the server is left alone -----
wrs_reset
for i in 1 2 3; do
    req A "http://hang$i.example/" "$tmp/bo$i"
    t=$(ms_of "$tmp/bo$i")
    [ "$(decision "$tmp/bo$i.txt")" = allow ] && [ "$t" -lt 1500 ] &&
        ok "hang, back-off on: failure $i allowed in $t ms" ||
        fail "hang, back-off on: failure $i: $(decision "$tmp/bo$i.txt") in $t ms"
done
wrs_reset
t0=$(date +%s%N)
for i in 1 2 3 4 5 6 7 8 9 10; do
    req A "http://skipped$i.example/" "$tmp/skip$i"
done
total=$((($(date +%s%N) - t0) / 1000000))
# The wall time is mostly c-icap-client's own start-up (slow on a loaded machine): the time the
# module spent on each request is in the access log.
slow=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    m=$(module_ms A "http://skipped$i.example/")
    [ -n "$m" ] && [ "$m" -lt 50 ] || { slow=$((slow + 1)); echo "  skipped$i: '$m' ms"; }
done
[ "$slow" = 0 ] && ok "back-off on: 10 requests each decided in < 50 ms (wall $total ms)" ||
    fail "back-off on: $slow of 10 requests took >= 50 ms in the module (wall $total ms)"
[ "$(wrs_count)" = 0 ] && ok "back-off on: the fake counted no calls" ||
    fail "back-off on: the fake counted $(wrs_count) calls, want 0"
expect_grep "back-off on: source backoff" "$tmp/skip10.txt" "score=0; category=unrated; source=backoff"
expect_grep "back-off on: allowed" "$tmp/skip10.txt" "ICAP/1.0 204"

# status_shows DESC INSTANCE FIXED-STRING: `webwardenctl status` of that instance shows the line
# within 5 s (the children store the server's state from their 1 s tick).
status_shows() {
    _end=$(($(date +%s) + 5))
    while :; do
        "$CTL" -c "$tmp/$2.conf" status >"$tmp/st$2.txt" 2>&1
        grep -qF -- "$3" "$tmp/st$2.txt" && { ok "$1"; return 0; }
        [ "$(date +%s)" -lt "$_end" ] || { fail "$1: '$3' not in:"; cat "$tmp/st$2.txt"; return 1; }
        sleep 0.2
    done
}
status_shows "status: the backed-off server is named" A "  reputation   backoff "
status_shows "status: a timeout is the last failure" A "(timeout)"
status_shows "status: the back-off is listed as a problem" A "  - reputation server backoff:"
"$CTL" -c "$tmp/A.conf" status --json >"$tmp/stA.json" 2>&1
"$PY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
r = j["servers"]["reputation"]
sys.exit(0 if r["state"] == "backoff" and not j["healthy"] and r["checked"] else 1)' "$tmp/stA.json" &&
    ok "status --json: reputation backoff, not healthy" || { fail "status --json"; cat "$tmp/stA.json"; }

# --- 500 / malformed / huge: unrated (C, back-off off) ------------------------------------------------
for m in 500 malformed huge; do
    wrs_mode "$m"
    req C "http://www.bad.webwarden.test/$m" "$tmp/m$m"
    t=$(ms_of "$tmp/m$m")
    expect_grep "$m answer: unrated failure" "$tmp/m$m.txt" "score=0; category=unrated; source=failure"
    [ "$(decision "$tmp/m$m.txt")" = allow ] && [ "$t" -lt 1500 ] && ok "$m answer: allowed in $t ms" ||
        fail "$m answer: $(decision "$tmp/m$m.txt") in $t ms"
done
wrs_mode huge
expect_decision "huge answer, unrated action block" B 'http://www.bad.webwarden.test/huge' block

# --- recovery needs nothing -------------------------------------------------------------------------
wrs_mode normal
req C 'http://www.bad.webwarden.test/recovered' "$tmp/rec"
expect_grep "recovery, back-off off: rated at once" "$tmp/rec.txt" "score=20; category=malware; source=server"
status_shows "status: the server answers again: ok" C "  reputation   ok "
# A is backed off: rated again once its period (30 s from the third failure: long enough that
# the 10 requests above stay inside it on a loaded machine) has passed.
end=$(($(date +%s) + 75))
n=0
while :; do
    n=$((n + 1))
    req A "http://www.bad.webwarden.test/rec$n" "$tmp/reca"
    grep -qF "source=server" "$tmp/reca.txt" && break
    [ "$(date +%s)" -lt "$end" ] || break
    sleep 0.2
done
expect_grep "recovery, back-off on: rated again after the back-off period" "$tmp/reca.txt" \
    "score=20; category=malware; source=server"
expect_grep "recovery, back-off on: blocked again" "$tmp/reca.txt" "403 Forbidden"

# --- CONNECT is rated by host ---------------------------------------------------------------------
"$CLIENT" -i 127.0.0.1 -p "$portA" -s webwarden_url -method CONNECT -req 'www.bad.webwarden.test:443' \
    -v -o "$tmp/conn.html" >"$tmp/conn.txt" 2>&1
expect_grep "CONNECT: rated by host and blocked" "$tmp/conn.txt" "403 Forbidden"

# --- urldb hot reload: a new component version in the store is picked up by the tick ----------------
sqlite3 "$tmp/stateA.db" "INSERT INTO components (name, version, path, sha256, installed_at, current)
    VALUES ('urldb', '2026.11.27.2', '$tmp/urldb2.txt', '', strftime('%s','now'), 1);" ||
    fail "cannot install the urldb component"
wrs_reset
end=$(($(date +%s) + 10))
n=0
while :; do
    n=$((n + 1))
    req A "http://reloaded.webwarden.test/p$n" "$tmp/rel"
    grep -qF "source=localdb" "$tmp/rel.txt" && break
    [ "$(date +%s)" -lt "$end" ] || break
    sleep 0.3
done
expect_grep "urldb hot reload: new entry answers locally" "$tmp/rel.txt" "score=15; category=phishing; source=localdb"
expect_decision "urldb hot reload: dropped entry goes to the server" A 'http://localok.webwarden.test/x' allow

# --- access log ------------------------------------------------------------------------------------
logA="$tmp/varA/log/access.log"
end=$(($(date +%s) + 5))
while ! grep -q 'localok.webwarden.test/x' "$logA" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.1
done
expect_grep "access log: block by score" "$logA" "action=block url=http://www.bad.webwarden.test/dl?x=1 reason=\"score 20 <= 65 (medium)\" score=20 category=malware"
expect_grep "access log: source server" "$logA" "score=20 category=malware threat=- sha256=- size=- ms="
expect_grep "access log: source cache" "$logA" "source=cache"
expect_grep "access log: source localdb" "$logA" "score=10 category=malware"
expect_grep "access log: source backoff" "$logA" "reason=\"unrated (server backed off)\" score=0 category=unrated"
expect_grep "access log: backoff token" "$logA" "source=backoff"
expect_grep "access log: list source" "$logA" "source=list"
logC="$tmp/varC/log/access.log"
expect_grep "access log: timeout source" "$logC" "reason=\"unrated (timeout)\" score=0 category=unrated"
expect_grep "access log: timeout token" "$logC" "source=timeout"

# --- feedback capture: rated lookups reach the store's queue (flushed by the child's 1 s tick) ----
fbq() { sqlite3 "$tmp/stateA.db" "SELECT url, score, categories, action FROM feedback_queue" 2>/dev/null; }
end=$(($(date +%s) + 10))
while ! fbq | grep -qF 'http://localok.webwarden.test/x|90|news|allow' && [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.2
done
fbq >"$tmp/fbq.txt"
expect_grep "feedback: allowed lookup queued" "$tmp/fbq.txt" "http://news.example/a|90|news|allow"
expect_grep "feedback: blocked lookup queued" "$tmp/fbq.txt" "http://www.bad.webwarden.test/dl?x=1|20|malware|block"
expect_grep "feedback: local db lookup queued" "$tmp/fbq.txt" "http://www.localbad.webwarden.test/p|10|malware|block"
expect_grep "feedback: unrated lookup queued" "$tmp/fbq.txt" "http://skipped1.example/|0||allow"
expect_no_grep "feedback: list decisions are not lookups" "$tmp/fbq.txt" "x.blocked.webwarden.test"

# --- webwardenctl url-check: the path of each decision ----------------------------------------------
check() { # DESC CONF URL WANT...: every WANT must be in the output
    _d=$1 _c=$2 _u=$3
    shift 3
    "$CTL" -c "$tmp/$_c.conf" url-check "$_u" >"$tmp/uc.txt" 2>&1 || fail "$_d: exit status $?"
    for _w in "$@"; do expect_grep "$_d" "$tmp/uc.txt" "$_w"; done
}
check "url-check: list" C 'http://blocked.webwarden.test/' "decision:   block" "path:       list (blocked: blocked.webwarden.test)"
check "url-check: local db" C 'http://localbad.webwarden.test/' "score:      10" "path:       localdb"
check "url-check: server" C 'http://www.bad.webwarden.test/' "score:      20" "categories: malware" \
    "reason:     score 20 <= 50 (low)" "path:       server ($WRS)"
wrs_mode hang
check "url-check: timeout" C 'http://www.bad.webwarden.test/t' "decision:   allow" \
    "score:      0 (unrated)" "path:       timeout (no answer within 500 ms)"
wrs_mode normal
"$CTL" -c "$tmp/C.conf" url-check --json 'http://gamble.example/' >"$tmp/uc.json" 2>&1
expect_grep "url-check --json: decision" "$tmp/uc.json" '"decision": "block"'
expect_grep "url-check --json: path" "$tmp/uc.json" '"source": "server"'
"$CTL" -c "$tmp/C.conf" url-check 'http://' >"$tmp/uc_bad.txt" 2>&1
[ $? = 2 ] && ok "url-check: a bad URL is a usage error" || fail "url-check: bad URL status"

# --- webwardenctl urldb import ------------------------------------------------------------------
mkdir -p "$tmp/sg/malware" "$tmp/sg/news"
printf 'evil.example\n' >"$tmp/sg/malware/domains"
printf 'example.org/bad/\n' >"$tmp/sg/malware/urls"
printf 'paper.example\n' >"$tmp/sg/news/domains"
"$CTL" -c "$tmp/C.conf" urldb import "$tmp/sg" "$tmp/imported.txt" --score 90 \
    --category-scores malware=10 >"$tmp/imp.txt" 2>&1 || fail "urldb import: exit status"
expect_grep "urldb import: count" "$tmp/imp.txt" "wrote 3 entries"
expect_grep "urldb import: header" "$tmp/imported.txt" "webwarden-urldb 1"
sed -i "s|^file = .*|file = $tmp/imported.txt|" "$tmp/C.conf"
check "urldb import: usable by url-check" C 'http://www.evil.example/' "score:      10" \
    "categories: malware" "path:       localdb"
"$CTL" -c "$tmp/C.conf" urldb import "$tmp/nonexistent" "$tmp/x.txt" >"$tmp/imp_bad.txt" 2>&1
[ $? = 1 ] && ok "urldb import: missing folder fails" || fail "urldb import: missing folder status"

# Every instance is still up (no crash on any answer).
for i in A B C; do
    kill -0 "$(cat "$tmp/var$i/c-icap.runpid")" 2>/dev/null && ok "c-icap $i still running" ||
        fail "c-icap $i died"
done
if grep -q "SIGSEGV\|AddressSanitizer\|runtime error" "$tmp"/var*/log/*.log "$tmp"/var*/log/c-icap.out 2>/dev/null; then
    fail "crash or sanitizer report in the c-icap logs"
fi

if [ "$fails" -eq 0 ]; then
    echo "PASS: it_reputation"
    status=0
    exit 0
fi
echo "FAILED: $fails check(s)"
exit 1
