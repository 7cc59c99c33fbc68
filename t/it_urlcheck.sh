#!/bin/sh
# t/it_urlcheck.sh - one URL decision, two callers: for a corpus of URLs, `webwardenctl
# url-check --json` and a real c-icap running webwarden_url (same config, same lists, local URL
# database and fake reputation server t/fake_wrs.py) must give the same decision, score,
# category, source and reason (lib/ww_urlcheck). Each URL goes once through c-icap, so the
# child's cache never answers (url-check's cache is always empty). Run by `make check`.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
. "$top_srcdir/t/wwenv.sh"

CLIENT=${CICAP_CLIENT:-c-icap-client}
PY=${PYTHON3:-python3}
CTL="$top_builddir/src/webwardenctl"
for tool in "${CICAP_BIN:-/usr/bin/c-icap}" "$CLIENT" "$PY"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$CTL" ] || { echo "FAIL: $CTL not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-it-uc.XXXXXX") || exit 1
fails=0
status=1
fake_pid=
cleanup() {
    [ -f "$tmp/var/c-icap.runpid" ] && ww_stop_pids "$(cat "$tmp/var/c-icap.runpid")"
    [ -n "$fake_pid" ] && ww_stop_pids "$fake_pid"
    if [ "$status" != 0 ]; then
        echo "----- c-icap server.log (tail)"
        tail -n 20 "$tmp/var/log/server.log" 2>/dev/null
        echo "----- c-icap access.log (tail)"
        tail -n 20 "$tmp/var/log/access.log" 2>/dev/null
    fi
    [ -n "${WW_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$PY" "$top_srcdir/t/fake_wrs.py" --port-file "$tmp/wrs.port" >"$tmp/wrs.log" 2>&1 </dev/null &
fake_pid=$!
wait_for 10 test -s "$tmp/wrs.port" || { fail "fake_wrs did not start"; cat "$tmp/wrs.log"; exit 1; }
WRS="http://127.0.0.1:$(cat "$tmp/wrs.port")"
wrs_mode() {
    "$PY" -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
                                              method="POST"), timeout=5).read()' \
        "$WRS/_mode" "{\"mode\": \"$1\", \"ms\": 0}" >/dev/null || fail "fake_wrs: mode $1"
}

printf 'good.webwarden.test\nexample.org/ok/\n' >"$tmp/approved.txt"
printf 'blocked.webwarden.test\nexample.org/ads/\n' >"$tmp/blocked.txt"
printf '%s\n' 'webwarden-urldb 1 2026.12.03.1' 'localbad.webwarden.test 10 malware' \
    'localok.webwarden.test 95 news' 'good.webwarden.test 5 malware' >"$tmp/urldb.txt"
printf '%s\n' '[gateway]' "block_page = $top_srcdir/etc/block.html" '[state]' \
    "database = $tmp/state.db" '[lists]' "approved = $tmp/approved.txt" \
    "blocked = $tmp/blocked.txt" '[reputation]' "server = $WRS" 'timeout_ms = 500' \
    'sensitivity = medium' 'unrated_action = allow' 'backoff = off' \
    'blocked_categories = gambling' '[urldb]' "file = $tmp/urldb.txt" >"$tmp/ww.conf"
"$CTL" -c "$tmp/ww.conf" init >/dev/null || fail "webwardenctl init"
port=$(ww_free_port)
ww_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/ww.conf" "$tmp/var" || exit 1
sed -i -e 's/^StartServers .*/StartServers 1/' -e 's/^MaxServers .*/MaxServers 1/' "$tmp/c-icap.conf"
ww_start_cicap "$tmp/c-icap.conf" "$tmp/var" || exit 1

# same URL: c-icap's answer and access-log line for URL against url-check's JSON.
n=0
same() {
    n=$((n + 1))
    rm -f "$tmp/r$n.html"
    "$CLIENT" -i 127.0.0.1 -p "$port" -s webwarden_url -req "$1" -v -o "$tmp/r$n.html" \
        >"$tmp/r$n.txt" 2>&1
    if ! "$CTL" -c "$tmp/ww.conf" url-check --json "$1" >"$tmp/u$n.json" 2>"$tmp/u$n.err"; then
        fail "url-check $1: exit status"
        cat "$tmp/u$n.err"
        return
    fi
    if "$PY" "$top_srcdir/t/urlcheck_same.py" "$tmp/u$n.json" "$tmp/var/log/access.log" \
        "$tmp/r$n.txt" >"$tmp/cmp$n.txt" 2>&1; then
        ok "same verdict: $(cat "$tmp/cmp$n.txt")"
    else
        fail "$1: $(cat "$tmp/cmp$n.txt")"
    fi
}

same 'http://good.webwarden.test/x'         # approved list beats the local db's 5
same 'http://Blocked.Webwarden.TEST/a?b=1'  # blocked list, canonicalised
same 'http://example.org/ok/page'           # approved URL prefix
same 'http://example.org/ads/banner.gif'    # blocked URL prefix
same 'http://localbad.webwarden.test/'      # local URL database: block
same 'http://localok.webwarden.test/page'   # local URL database: allow
same 'http://www.bad.webwarden.test/dl?x=1' # server: dangerous score
same 'http://gamble.example/'               # server: blocked category
same 'http://unrated.example/'              # server: score 0, unrated_action
same 'http://news.example/a/../b'           # server: safe
same 'http://hostwide.example/x'            # server: host-wide answer
wrs_mode hang
same 'http://www.bad.webwarden.test/slow'   # timeout: unrated
wrs_mode 500
same 'http://www.bad.webwarden.test/e500'   # failure: unrated
wrs_mode normal

[ "$fails" = 0 ] && status=0
exit "$status"
