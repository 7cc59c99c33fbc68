#!/bin/bash
# bench/run-policy.sh - REQMOD cost of named policies (issue 14): webwarden_url with no
# [policy] sections (the single, default policy) against webwarden_url with 100 policies holding
# 10,000 CIDRs plus user and group terms, in the same run: two c-icap instances, the cells
# interleaved, every request carrying the identity headers Squid sends. Prints the medians and
# the ratio; the issue asks for at least 0.9x. See bench/README.md.
set -u

usage() {
    cat <<EOF
Usage: bench/run-policy.sh [options]
  -o DIR      results folder (default bench/results/policy-<date>-<time>/)
  -r N        interleaved repeats (default 5, at most 20)
  -d SECONDS  measured seconds per cell (default 3)
  -w SECONDS  warm-up seconds per cell (default 1)
  -c N        concurrent connections (default 8)
  -h, --help  this text
EOF
}

BL_DIR=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$BL_DIR/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$BL_DIR/bench-lib.sh"

outdir='' repeats=5 dur=3 warm=1 conc=8
while [ $# -gt 0 ]; do
    case $1 in
    -o) outdir=${2:?-o needs a folder}; shift 2 ;;
    -r) repeats=${2:?}; shift 2 ;;
    -d) dur=${2:?}; shift 2 ;;
    -w) warm=${2:?}; shift 2 ;;
    -c) conc=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
isnum "$repeats" 1 20 || bl_die "-r: 1 to 20"
isnum "$dur" 1 600 || bl_die "-d: 1 to 600"
isnum "$warm" 0 60 || bl_die "-w: 0 to 60"
isnum "$conc" 1 256 || bl_die "-c: 1 to 256"

bl_icapload "$top_builddir"
[ -x "${CICAP_BIN:-/usr/bin/c-icap}" ] || bl_die "c-icap not installed"
WW_MODULES_DIR=${WW_MODULES_DIR:-$top_builddir/modules/.libs}
[ -r "$WW_MODULES_DIR/srv_webwarden_url.so" ] || bl_die "srv_webwarden_url.so not built"

outdir=${outdir:-$top_srcdir/bench/results/policy-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$outdir" || bl_die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-bench-policy.XXXXXX") || bl_die "mktemp failed"
pid_one='' pid_many=''
cleanup() {
    bl_stop_pid "$pid_one"
    bl_stop_pid "$pid_many"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bl_env_info >"$outdir/env.txt"
bl_log "results in $outdir"

# --- data: URLs, the two configs ----------------------------------------------------------------
"$BL_PY" - "$tmp" <<'EOF'
import sys
d = sys.argv[1]
with open(d + "/urls.txt", "w") as f:
    for i in range(1000):
        f.write("http://www%d.site%d.example/path/%d/index.html?q=%d\n" % (i % 7, i, i % 13, i))
# 100 policies x 100 CIDRs (/24s of 10.P.C.0) = 10,000 CIDRs, plus a user and a group each.
with open(d + "/policies.part", "w") as f:
    for p in range(100):
        terms = ["client 10.%d.%d.0/24" % (p, c) for c in range(100)]
        terms += ["user user%d" % p, "group group%d" % p]
        f.write("[policy p%d]\nmatch = %s\nsensitivity = high\n\n" % (p, ", ".join(terms)))
EOF
for which in one many; do
    mkdir -p "$tmp/$which"
    {
        echo "[gateway]"
        echo "block_page = $top_srcdir/etc/block.html"
        echo "[state]"
        echo "database = $tmp/$which/state.db"
        echo "[scan]"
        echo "patterns_dir = $tmp/$which"
        echo "tmp_dir = $tmp/$which"
        [ "$which" = many ] && cat "$tmp/policies.part"
    } >"$tmp/$which/webwarden.conf"
    "$top_builddir/src/webwardenctl" -c "$tmp/$which/webwarden.conf" init >/dev/null 2>&1 ||
        bl_die "webwardenctl init ($which) failed"
    cp "$tmp/$which/webwarden.conf" "$outdir/webwarden-$which.conf"
done

start_one() { # start_one WHICH: prints the port
    local which=$1 port
    port=$(bl_free_port)
    bl_cicap_conf "$tmp/$which/c-icap.conf" "$port" "$tmp/$which/var" 64 || bl_die "c-icap.conf"
    {
        echo "Service webwarden_url $WW_MODULES_DIR/srv_webwarden_url.so"
        echo "webwarden_url.ConfigFile $tmp/$which/webwarden.conf"
    } >>"$tmp/$which/c-icap.conf"
    bl_start_cicap "$tmp/$which/c-icap.conf" "$tmp/$which/var" "$port" >&2 ||
        bl_die "c-icap ($which) did not start"
    echo "$port $BL_CICAP_PID"
}
read -r port_one pid_one < <(start_one one)
read -r port_many pid_many < <(start_one many)
for p in "$port_one" "$port_many"; do
    bl_icap_probe "$ICAPLOAD" "$p" webwarden_url reqmod || bl_die "webwarden_url on port $p does not answer"
done

# The identity of every request: an address in the last policy's last CIDR (the deepest walk),
# a user and groups no policy names (every name table is searched, nothing matches early).
ident=(-x "X-Client-IP: 10.99.99.7" -x "X-Client-Username: nobody" -x "X-Authenticated-Groups: staff, others")
: >"$outdir/results.jsonl"
for rep in $(seq 1 "$repeats"); do
    for which in one many; do
        port=$port_one
        [ "$which" = many ] && port=$port_many
        "$ICAPLOAD" -P "$port" -s webwarden_url -m reqmod -U "$tmp/urls.txt" -c "$conc" \
            -d "$dur" -W "$warm" "${ident[@]}" -l "$which r$rep" --json \
            >>"$outdir/results.jsonl" 2>>"$outdir/icapload.log" ||
            bl_die "icapload ($which r$rep) failed"
        bl_log "$which r$rep done"
    done
done
"$BL_PY" - "$outdir/results.jsonl" "$repeats" "$conc" <<'EOF' | tee "$outdir/summary.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(which):
    return statistics.median(r["rps"] for r in rows if r["label"].startswith(which + " "))
one, many = med("one"), med("many")
print("| configuration | REQMOD req/s (median of %s, c=%s) |" % (sys.argv[2], sys.argv[3]))
print("|---|---|")
print("| default policy only | %.0f |" % one)
print("| 100 policies, 10,000 CIDRs, 100 users, 100 groups | %.0f |" % many)
print("")
print("ratio many/one: %.3f (issue 14 asks >= 0.9)" % (many / one))
EOF
