#!/bin/sh
# t/it_badinput.sh - bad input for both Webwarden services in a real c-icap: a corpus of malformed
# ICAP requests and odd HTTP (t/icap_send.py built-in cases plus the raw files in t/badinput/)
# sent over raw loopback sockets. Every case must get an ICAP status line or, for protocol
# garbage, a closed connection, within a bounded time; afterwards no c-icap child has died
# (same child PIDs, nothing in the server log about a crash) and ordinary requests still work.
# Prints the table case -> answer. Run by `make check` (well under 60 s).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

PY=${PYTHON3:-python3}
CLIENT=${CICAP_CLIENT:-c-icap-client}
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "$PY" ps; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-badinput.XXXXXX")
fails=0
status=1
cleanup() {
    [ -f "$tmp/var/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    if [ "$status" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 40 "$tmp/var/log/server.log" 2>/dev/null
        tail -n 20 "$tmp/var/log/c-icap.out" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$tmp/patterns" "$tmp/spool" "$tmp/var"
printf 'good.webwarden.test\n' >"$tmp/approved.txt"
printf 'blocked.webwarden.test\n' >"$tmp/blocked.txt"
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$tmp/eicar.com"
echo "Webwarden.Test.Eicar.Body:0:*:$(od -An -v -tx1 "$tmp/eicar.com" | tr -d ' \n')" >"$tmp/patterns/test.ndb"
cat >"$tmp/webwarden.conf" <<EOF
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state.db
[lists]
approved = $tmp/approved.txt
blocked = $tmp/blocked.txt
[scan]
patterns_dir = $tmp/patterns
max_size = 5M
hold_max = 60K
max_expanded_size = 20M
tmp_dir = $tmp/spool
EOF
if [ -x "$top_builddir/src/webwardenctl" ]; then
    "$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >/dev/null || fail "webwardenctl init"
fi

port=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/webwarden.conf" "$tmp/var" || exit 1
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1
main_pid=$(cat "$tmp/var/c-icap.runpid")

# children PIDS: the sorted child PIDs of the c-icap main process, once StartServers (2) are up.
children() { ps -o pid= --ppid "$main_pid" | tr -d ' ' | sort -n | tr '\n' ' '; }
end=$(($(date +%s) + 20))
while [ "$(children | wc -w)" -lt 2 ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
before=$(children)
[ "$(echo "$before" | wc -w)" -ge 2 ] || fail "c-icap children not up: '$before'"

# One warm request per service, so the children have loaded both services before the corpus.
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_url -req 'http://neutral.example.org/' >/dev/null 2>&1
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -f "$tmp/eicar.com" -resp 'http://dl.webwarden.test/e' >/dev/null 2>&1

start=$(date +%s)
"$PY" "$top_srcdir/t/icap_send.py" --port "$port" --corpus "$top_srcdir/t/badinput" --patience 1.5 --bound 10 \
    >"$tmp/table.txt" 2>&1
rc=$?
cat "$tmp/table.txt"
[ "$rc" = 0 ] && ok "every case got a sane answer in time ($(($(date +%s) - start)) s)" ||
    fail "some cases got no sane answer in time (see table)"

# Same children, main process alive, no crash reported.
after=$(children)
kill -0 "$main_pid" 2>/dev/null && ok "c-icap main process alive" || fail "c-icap main process died"
[ "$before" = "$after" ] && ok "same c-icap children before and after ($after)" ||
    fail "c-icap children changed: before '$before', after '$after' (a child died)"
crash_re='crash\|segfault\|did not exit normally\|signaled with signal'
if grep -qi "$crash_re" "$tmp/var/log/server.log" 2>/dev/null; then
    fail "server log reports a crash:"
    grep -i "$crash_re" "$tmp/var/log/server.log" | head -5
else ok "no crash in the server log"; fi
"$CLIENT" -i 127.0.0.1 -p "$port" -s "info?view=text" -req http://localhost/ -o "$tmp/info.txt" >/dev/null 2>&1
crashed=$(sed -n 's/.*Crashed Processes[^0-9]*\([0-9][0-9]*\).*/\1/p' "$tmp/info.txt" | head -1)
if [ -n "$crashed" ]; then
    [ "$crashed" = 0 ] && ok "info service: 0 crashed processes" || fail "info service: $crashed crashed processes"
fi

# Ordinary requests still work.
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_url -req 'http://www.blocked.webwarden.test/' -v >"$tmp/r_block.txt" 2>&1
grep -q "403 Forbidden" "$tmp/r_block.txt" && ok "after the corpus: blocked URL gets 403" ||
    fail "after the corpus: blocked URL not blocked: $(head -3 "$tmp/r_block.txt")"
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_url -req 'http://neutral.example.org/' -v >"$tmp/r_allow.txt" 2>&1
grep -q "ICAP/1.0 204" "$tmp/r_allow.txt" && ok "after the corpus: neutral URL gets 204" ||
    fail "after the corpus: neutral URL not allowed: $(head -3 "$tmp/r_allow.txt")"
"$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_scan -f "$tmp/eicar.com" -resp 'http://dl.webwarden.test/e2' -v >"$tmp/r_eicar.txt" 2>&1
grep -q "X-Infection-Found" "$tmp/r_eicar.txt" && ok "after the corpus: EICAR still detected" ||
    fail "after the corpus: EICAR not detected: $(head -3 "$tmp/r_eicar.txt")"

# Cases that crash a c-icap 0.5.10 child or corrupt its heap in c-icap's own parsing (a 2 GiB
# chunk size; an encapsulated header block of just CRLF; an offset past 2^63; see
# upstream_cases in icap_send.py and docs/reliability.md): not ours to fix. What must hold:
# c-icap replaces the child and the services answer on.
echo "--- cases that break c-icap 0.5.10 itself (reported, not failed on):"
"$PY" "$top_srcdir/t/icap_send.py" --port "$port" --upstream --patience 1.5 --bound 10 | sed -n '3,$p'
end=$(($(date +%s) + 20))
while :; do
    "$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_url -req 'http://www.blocked.webwarden.test/' -v >"$tmp/r_up.txt" 2>&1
    grep -q "403 Forbidden" "$tmp/r_up.txt" && break
    [ "$(date +%s)" -lt "$end" ] || break
    sleep 0.2
done
grep -q "403 Forbidden" "$tmp/r_up.txt" && ok "after c-icap's own 2 GiB-chunk crash: service goes on" ||
    fail "after the 2 GiB chunk case: blocked URL not blocked"
if grep -qi "$crash_re" "$tmp/var/log/server.log"; then
    echo "note: c-icap 0.5.10 children crashed on those cases ($(grep -c "did not exit normally" "$tmp/var/log/server.log")), replaced"
fi

left=$(find "$tmp/spool" -type f | wc -l)
[ "$left" -eq 0 ] && ok "no spool files left" || fail "$left spool files left in $tmp/spool"

if [ "$fails" -eq 0 ]; then
    status=0
    echo "PASS: it_badinput"
    exit 0
fi
echo "$fails check(s) failed"
exit 1
