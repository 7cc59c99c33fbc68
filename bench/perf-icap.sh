#!/bin/bash
# bench/perf-icap.sh - where c-icap's CPU goes per request: one c-icap (2 children) with c-icap's
# echo and Webwarden's services on the benchmark's signature set (bench/gen-sigs.py: N random
# .ndb + N random .hsb + EICAR), each cell driven by bench/icapload while the c-icap processes'
# CPU time is read from /proc (CPU-us per request, the figure least moved by the machine's other
# load), optionally under `perf record -g` (the children's top entries). See docs/performance.md.
set -u

usage() {
    cat <<EOF
Usage: bench/perf-icap.sh [options] [CELL...]
  CELL is SERVICE:TEST:C with SERVICE echo, scan (webwarden_scan, streaming), hold
  (webwarden_scan?hold_all=on), url (webwarden_url), scanb (the same as scan from the modules in
  WW_MODULES_DIR_B, a build configured with CPPFLAGS=-DWW_SCAN_SVC='"webwarden_scan_b"': two
  builds A/B in one c-icap, same run), TEST 64k, 1m or reqmod, C the concurrency.
  Default cells: echo:1m:8 scan:1m:8 hold:1m:8 echo:64k:8 scan:64k:8 echo:reqmod:8 url:reqmod:8
  -r N         repeats of the whole list, interleaved (default 3); the median is printed
  -d SECONDS   measured seconds per cell (default 4, after 1 s of warm-up)
  -a MODE      "Allow: 204": on, off or squid (default squid: as Squid, only for REQMOD and a
               body under 64 KiB; bench/icapload -a)
  --sigs N     random .ndb and .hsb signatures (default 100000)
  --record DIR perf record -g the c-icap children during each cell of the first repeat:
               DIR/<cell>.data and DIR/<cell>.txt (perf report --no-children, top entries)
  --syscalls   count the children's read, write and poll calls per request (perf stat)
  -h           this text
Environment: WW_MODULES_DIR (the modules measured; default this build's), WW_MODULES_DIR_B (a second
build's srv_webwarden_scan.so, as service webwarden_scan_b for the scanb cells), PERF_RECORD_OPTS (default -g; --call-graph dwarf sees through code without frame pointers),
WW_CONF_EXTRA (lines appended to the generated webwarden.conf, printf %b: e.g.
'[scan]\\nhold_max = 0'), PERF_SYSCALL_EVENTS (what --syscalls counts; default the read, write and poll tracepoints;
raw_syscalls:sys_enter counts every system call, as "all"; sched:sched_switch the children's
context switches, as "switch")
EOF
}

BL_DIR=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$BL_DIR/.." && pwd)}
. "$BL_DIR/bench-lib.sh"
top_builddir=$(bl_builddir)

repeats=3 dur=4 allow=squid nsigs=100000 record='' syscalls=0
syscall_events=${PERF_SYSCALL_EVENTS:-syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_poll}
while [ $# -gt 0 ]; do
    case $1 in
    -r) repeats=${2:?}; shift 2 ;;
    -d) dur=${2:?}; shift 2 ;;
    -a) allow=${2:?}; shift 2 ;;
    --sigs) nsigs=${2:?}; shift 2 ;;
    --record) record=${2:?}; shift 2 ;;
    --syscalls) syscalls=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) break ;;
    esac
done
cells=("$@")
[ ${#cells[@]} -gt 0 ] || cells=(echo:1m:8 scan:1m:8 hold:1m:8 echo:64k:8 scan:64k:8
    echo:reqmod:8 url:reqmod:8)
bl_icapload "$top_builddir"
MODS=${WW_MODULES_DIR:-$top_builddir/modules/.libs}
[ -r "$MODS/srv_webwarden_scan.so" ] || bl_die "modules not built in $MODS"
if [ -n "$record" ]; then
    command -v perf >/dev/null || bl_die "--record needs perf (Debian: linux-perf)"
    mkdir -p "$record" || bl_die "cannot create $record"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-perf-icap.XXXXXX") || bl_die "mktemp failed"
bl_cleanup_at_exit "$tmp"
bl_make_inputs "$tmp"
bl_make_sigs "$tmp/sigs" "$nsigs"
bl_ww_conf "$tmp/webwarden.conf" "$tmp" "$top_srcdir/etc/block.html" ||
    bl_die "cannot write $tmp/webwarden.conf"
[ -n "${WW_CONF_EXTRA:-}" ] && printf '%b\n' "$WW_CONF_EXTRA" >>"$tmp/webwarden.conf"
"$top_builddir/src/webwardenctl" -c "$tmp/webwarden.conf" init >"$tmp/init.txt" 2>&1 ||
    bl_die "webwardenctl init failed: $(cat "$tmp/init.txt")"
port=$(bl_free_port)
bl_cicap_conf "$tmp/c-icap.conf" "$port" "$tmp/var" 64 || bl_die "cannot write the c-icap config"
bl_ww_services "$MODS" "$tmp/webwarden.conf" >>"$tmp/c-icap.conf"
if [ -n "${WW_MODULES_DIR_B:-}" ]; then
    [ -r "$WW_MODULES_DIR_B/srv_webwarden_scan.so" ] || bl_die "no srv_webwarden_scan.so in $WW_MODULES_DIR_B"
    # that build was configured with CPPFLAGS=-DWW_SCAN_SVC='"webwarden_scan_b"' (its own name)
    printf 'Service webwarden_scan_b %s/srv_webwarden_scan.so\nwebwarden_scan_b.ConfigFile %s\n' \
        "$WW_MODULES_DIR_B" "$tmp/webwarden.conf" >>"$tmp/c-icap.conf"
fi
bl_start_cicap "$tmp/c-icap.conf" "$tmp/var" "$port" || bl_die "c-icap did not start"
kids=$(bl_cicap_children "$BL_CICAP_PID" 60 | paste -sd,) # perf -p takes a comma list
[ -n "$kids" ] || bl_die "no c-icap child within 60 s"
bl_icap_probe "$ICAPLOAD" "$port" webwarden_scan respmod "$tmp/body-64k.bin" ||
    bl_die "webwarden_scan does not answer: $(tail -n 5 "$tmp/var/log/server.log")"
# Every URL's rating cached before the url cells (scenario (a) of bench/run-reputation.sh).
"$ICAPLOAD" -P "$port" -s webwarden_url -m reqmod -U "$tmp/urls.txt" -c 8 -n 16000 >/dev/null 2>&1

tck=$(getconf CLK_TCK)
res=$tmp/res.txt
: >"$res"
bl_log "load average $(cut -d' ' -f1-3 /proc/loadavg); c-icap $BL_CICAP_PID, children $kids"
for rep in $(seq 1 "$repeats"); do
    for cell in "${cells[@]}"; do
        IFS=: read -r svc test c <<<"$cell"
        case $svc in
        echo) path="echo" ;;
        scan) path=webwarden_scan ;;
        scanb) path=webwarden_scan_b ;;
        hold) path="webwarden_scan?hold_all=on" ;;
        url) path=webwarden_url ;;
        *) bl_die "unknown service $svc" ;;
        esac
        case $test in
        reqmod) args=(-m reqmod -U "$tmp/urls.txt") ;;
        64k | 1m) args=(-m respmod -f "$tmp/body-$test.bin" -u http://www.site1.example/file.bin) ;;
        *) bl_die "unknown test $test" ;;
        esac
        rec=()
        if [ -n "$record" ] && [ "$rep" = 1 ]; then
            perf record ${PERF_RECORD_OPTS:--g} -q -o "$record/$svc-$test-c$c.data" -p "$kids" -- sleep "$((dur + 1))" \
                >/dev/null 2>&1 &
            rec=($!)
        fi
        st=()
        if [ "$syscalls" = 1 ]; then
            perf stat -x, -o "$tmp/stat.txt" -e "$syscall_events" \
                -p "$kids" -- sleep "$((dur + 1))" >/dev/null 2>&1 &
            st=($!)
        fi
        t0=$(bl_cpu_ticks "$BL_CICAP_PID")
        out=$("$ICAPLOAD" -P "$port" -s "$path" "${args[@]}" -a "$allow" -c "$c" -d "$dur" -W 1 \
            -t 5000 --json 2>/dev/null)
        t1=$(bl_cpu_ticks "$BL_CICAP_PID")
        [ ${#rec[@]} -gt 0 ] && wait "${rec[0]}"
        calls=-
        if [ ${#st[@]} -gt 0 ]; then
            wait "${st[0]}"
            calls=$(awk -F, '/sys_enter|sched_switch/ {sub(/.*sys_enter_/, "", $3); sub(/raw_syscalls:sys_enter/, "all", $3); sub(/sched:sched_switch/, "switch", $3); printf "%s%s=%s", s, $3, $1; s="/"}' "$tmp/stat.txt")
        fi
        printf '%s\n' "$out" | "$BL_PY" -c 'import json, sys
j = json.load(sys.stdin)
cell, ticks, tck, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = j["rps"] * total
calls = sys.argv[5]
if calls != "-" and n:
    calls = " ".join("%s=%.1f" % (k, int(v) / n) for k, v in (c.split("=") for c in calls.split("/")))
print(cell, "%.0f" % j["rps"], "%.1f" % (ticks / tck * 1e6 / n if n else -1), j["errors"], calls)' \
            "$cell" "$((t1 - t0))" "$tck" "$((dur + 1))" "$calls" >>"$res"
        tail -n 1 "$res" >&2
    done
done
bl_log "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| cell | req/s (median of $repeats) | c-icap CPU-us/req (median) | runs (us) |"
echo "|---|---|---|---|"
for cell in "${cells[@]}"; do
    awk -v c="$cell" '$1 == c {print $2, $3}' "$res" | sort -n -k2 | "$BL_PY" -c 'import sys
rows = [l.split() for l in sys.stdin if l.strip()]
rps = sorted(float(r[0]) for r in rows)
cpu = sorted(float(r[1]) for r in rows)
m = lambda v: v[len(v) // 2] if v else 0
print("| %s | %.0f | %.0f | %s |" % (sys.argv[1], m(rps), m(cpu), " ".join("%.0f" % x for x in cpu)))' "$cell"
done
if [ -n "$record" ]; then
    for f in "$record"/*.data; do
        perf report -i "$f" --no-children --sort dso,symbol --stdio 2>/dev/null |
            grep -v '^#' | grep '%' | head -40 >"${f%.data}.txt"
    done
    bl_log "profiles in $record/*.txt"
fi
