#!/bin/bash
# bench/run-icap.sh - ICAP-level benchmark on loopback: c-icap's echo service against Webwarden's
# services (and c-icap's virus_scan + libclamav when installed), measured with bench/icapload,
# 3 interleaved repeats, a markdown table of medians with ratios to echo. See bench/README.md.
set -u

usage() {
    cat <<EOF
Usage: bench/run-icap.sh [options]
  -o DIR         results folder (default bench/results/icap-<date>-<time>/)
  -r N           interleaved repeats of the whole matrix (default 3, at most 20)
  -d SECONDS     measured seconds per cell (default 3; --quick: 2)
  -w SECONDS     warm-up seconds per cell, not measured (default 1; --quick: 0)
  -c LIST        concurrencies, comma-separated (default 1,8; each 1-256)
  -p BYTES       RESPMOD preview size (default 0 = no preview, as the anchors)
  -a on|off|squid  send "Allow: 204" always, never, or as Squid does (default squid: only for
                 REQMOD and a body under 64 KiB, the only bodies Squid keeps a copy of)
  -t MS          per-request timeout (default 5000)
  --quick        short cells for a smoke run
  --only LIST    run only these tests: reqmod,64k,1m (default all three)
  --no-webwarden measure c-icap's services only, even when Webwarden's are built
  --sigs N       random .ndb and .hsb signatures each for webwarden_scan and virus_scan
                 (default 100000; needs bench/gen-sigs.py, else a 1-signature EICAR set)
  --ww-conf FILE use this webwarden.conf for the Webwarden services instead of a generated one
  --install      apt-get install libc-icap-mod-virus-scan and clamav first (else virus_scan
                 runs only if they are already installed)
  -h, --help     this text
Environment: top_srcdir, top_builddir (default: ./build when configured, else the source tree), CICAP_BIN,
WW_MODULES_DIR (where srv_webwarden_*.so are; default \$top_builddir/modules/.libs),
WW_BLOCK_PAGE (block page template; default \$top_srcdir/etc/block.html when present),
WW_CONF_EXTRA (lines appended to the generated webwarden.conf, printf %b: e.g.
'[scan]\\nhold_max = 0').
EOF
}

BL_DIR=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$BL_DIR/.." && pwd)}
. "$BL_DIR/bench-lib.sh"
top_builddir=$(bl_builddir)

outdir='' repeats=3 dur='' warm='' concs=1,8 preview=0 allow=squid timeout_ms=5000 quick=0
only=reqmod,64k,1m use_ww=1 nsigs=100000 ww_conf='' install=0
while [ $# -gt 0 ]; do
    case $1 in
    -o) outdir=${2:?-o needs a folder}; shift 2 ;;
    -r) repeats=${2:?}; shift 2 ;;
    -d) dur=${2:?}; shift 2 ;;
    -w) warm=${2:?}; shift 2 ;;
    -c) concs=${2:?}; shift 2 ;;
    -p) preview=${2:?}; shift 2 ;;
    -a) allow=${2:?}; shift 2 ;;
    -t) timeout_ms=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=${2:?}; shift 2 ;;
    --no-webwarden) use_ww=0; shift ;;
    --sigs) nsigs=${2:?}; shift 2 ;;
    --ww-conf) ww_conf=${2:?}; shift 2 ;;
    --install) install=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
if [ "$quick" = 1 ]; then
    dur=${dur:-2} warm=${warm:-0}
else
    dur=${dur:-3} warm=${warm:-1}
fi
isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
isnum "$repeats" 1 20 || bl_die "-r: 1 to 20"
isnum "$dur" 1 600 || bl_die "-d: 1 to 600"
isnum "$warm" 0 60 || bl_die "-w: 0 to 60"
isnum "$nsigs" 0 2000000 || bl_die "--sigs: 0 to 2000000"
maxc=1
for c in ${concs//,/ }; do
    isnum "$c" 1 256 || bl_die "-c: each concurrency 1 to 256"
    [ "$c" -gt "$maxc" ] && maxc=$c
done
[ -z "$ww_conf" ] || [ -r "$ww_conf" ] || bl_die "--ww-conf: cannot read $ww_conf"

bl_icapload "$top_builddir"
CICAP=${CICAP_BIN:-/usr/bin/c-icap}
[ -x "$CICAP" ] || bl_die "c-icap not installed (apt-get install c-icap)"
SYSMODS=$(c-icap-config --modulesdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/c_icap)
[ -r "$SYSMODS/srv_echo.so" ] || bl_die "c-icap's echo service $SYSMODS/srv_echo.so not found"

if [ "$install" = 1 ]; then
    bl_log "installing libc-icap-mod-virus-scan and clamav (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libc-icap-mod-virus-scan clamav >&2 ||
        bl_die "apt-get install failed"
fi

outdir=${outdir:-$top_srcdir/bench/results/icap-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$outdir" || bl_die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-bench-icap.XXXXXX") || bl_die "mktemp failed"
# save_logs: at exit (bl_cleanup), once c-icap has stopped: its logs' tails into the results.
save_logs() {
    for f in server.log access.log c-icap.out; do
        [ -f "$tmp/var/log/$f" ] && tail -n 200 "$tmp/var/log/$f" >"$outdir/cicap-$f.tail"
    done
}
bl_cleanup_at_exit "$tmp" save_logs
bl_env_info >"$outdir/env.txt"
bl_log "results in $outdir"

# --- data: URLs, bodies, signatures -----------------------------------------------------------
bl_make_inputs "$tmp"

# One signature set for both scanners: random .ndb + .hsb plus EICAR, from bench/gen-sigs.py.
bl_make_sigs "$tmp/sigs" "$nsigs"
sigs_desc=$BL_SIGS_DESC
echo "signatures: $sigs_desc" >>"$outdir/env.txt"

# --- c-icap configuration -------------------------------------------------------------------
port=$(bl_free_port)
threads=$((maxc > 64 ? maxc : 64))
conf=$tmp/c-icap.conf
bl_cicap_conf "$conf" "$port" "$tmp/var" "$threads" || bl_die "cannot write $conf"

services="echo"
WW_MODULES_DIR=${WW_MODULES_DIR:-$top_builddir/modules/.libs}
block_page=${WW_BLOCK_PAGE:-$top_srcdir/etc/block.html}
ww_url_so=$WW_MODULES_DIR/srv_webwarden_url.so
ww_scan_so=$WW_MODULES_DIR/srv_webwarden_scan.so
if [ "$use_ww" = 1 ] && [ -r "$ww_url_so" ] && [ -r "$ww_scan_so" ]; then
    if [ -z "$ww_conf" ]; then
        ww_conf=$tmp/webwarden.conf
        bl_ww_conf "$ww_conf" "$tmp" "$block_page" || bl_die "cannot write $ww_conf"
        [ -n "${WW_CONF_EXTRA:-}" ] && printf '%b\n' "$WW_CONF_EXTRA" >>"$ww_conf"
    fi
    if [ -x "$top_builddir/src/webwardenctl" ]; then
        "$top_builddir/src/webwardenctl" -c "$ww_conf" init >>"$outdir/webwardenctl-init.txt" 2>&1 ||
            bl_log "warning: webwardenctl init failed (see webwardenctl-init.txt)"
    fi
    cp "$ww_conf" "$outdir/webwarden.conf"
    bl_ww_services "$WW_MODULES_DIR" "$ww_conf" >"$tmp/conf-ww.part"
    cat "$tmp/conf-ww.part" >>"$conf"
    # webwarden_scan_hold: the same module with hold_all=on (a Squid with the bug-5352 fixes, or
    # any other ICAP client): whole bodies scanned first, 204 when clean, as virus_scan answers.
    services="$services webwarden_url webwarden_scan webwarden_scan_hold"
elif [ "$use_ww" = 1 ]; then
    bl_die "Webwarden services not built ($ww_url_so, $ww_scan_so): build them (./quickstart or make), set top_builddir or WW_MODULES_DIR, or pass --no-webwarden"
fi

# c-icap's virus_scan with libclamav, on the same signatures. clamav_mod has no directive for
# its database folder, so the folder is bind-mounted over /var/lib/clamav in a private mount
# namespace of the c-icap process alone (needs root and unshare).
wrap=()
if [ -r "$SYSMODS/virus_scan.so" ] && [ -r "$SYSMODS/clamav_mod.so" ] && [ "$(id -u)" = 0 ] &&
    command -v unshare >/dev/null; then
    mkdir -p "$tmp/clamtmp"
    cat >"$tmp/conf-clam.part" <<EOF
Module common clamav_mod.so
clamav_mod.TmpDir $tmp/clamtmp
Service virus_scan virus_scan.so
virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GIF JPEG MSOFFICE
virus_scan.MaxObjectSize 5M
virus_scan.DefaultEngine clamav
EOF
    cat "$tmp/conf-clam.part" >>"$conf"
    wrap=(unshare -m --propagation private sh -c 'mount --bind "$0" /var/lib/clamav && exec "$@"' "$tmp/sigs")
    services="$services virus_scan"
else
    bl_log "c-icap virus_scan not installed (libc-icap-mod-virus-scan, clamav; or not root): skipped"
fi
cp "$conf" "$outdir/c-icap.conf"

bl_log "starting c-icap on 127.0.0.1:$port with: $services"
bl_start_cicap "$conf" "$tmp/var" "$port" "${wrap[@]}" || bl_die "c-icap did not start"

# svc_path NAME: the ICAP service path a benchmark name stands for.
svc_path() {
    case $1 in
    virus_scan) echo "virus_scan?allow204=on&sizelimit=off&mode=simple" ;;
    webwarden_scan_hold) echo "webwarden_scan?hold_all=on" ;;
    *) echo "$1" ;;
    esac
}

# Keep only the services that answer a real request (a module that failed to load gives 404/500).
have=""
for s in $services; do
    case $s in
    webwarden_url | echo) mode=reqmod ;;
    *) mode=respmod ;;
    esac
    path=$(svc_path "$s")
    if bl_icap_probe "$ICAPLOAD" "$port" "$path" "$mode" "$tmp/body-64k.bin"; then
        have="$have $s"
    else
        bl_log "warning: service $s does not answer 200/204: left out"
    fi
done
case " $have " in *" echo "*) ;; *) bl_die "c-icap's echo service does not answer" ;; esac

# --- the matrix -----------------------------------------------------------------------------
# cell: GROUP-KEY SERVICE C; prints one JSON line to results.jsonl.
results=$outdir/results.jsonl
: >"$results"
tck=$(getconf CLK_TCK)
run_cell() {
    local test=$1 svc=$2 c=$3 rep=$4 group args path=$2 raw
    case $test in
    reqmod) group="REQMOD c=$c"; args=(-m reqmod -U "$tmp/urls.txt") ;;
    64k) group="RESPMOD 64 KiB c=$c"; args=(-m respmod -f "$tmp/body-64k.bin" -p "$preview" -u http://www.site1.example/file.bin) ;;
    1m) group="RESPMOD 1 MiB c=$c"; args=(-m respmod -f "$tmp/body-1m.bin" -p "$preview" -u http://www.site1.example/file.bin) ;;
    esac
    path=$(svc_path "$svc")
    raw=$outdir/raw-$test-c$c-$svc-r$rep.json
    local t0 t1
    t0=$(bl_cpu_ticks "$BL_CICAP_PID")
    "$ICAPLOAD" -P "$port" -s "$path" "${args[@]}" -a "$allow" -c "$c" -d "$dur" -W "$warm" \
        -t "$timeout_ms" -l "$group $svc r$rep" --json >"$raw" 2>>"$outdir/icapload.log"
    t1=$(bl_cpu_ticks "$BL_CICAP_PID")
    "$BL_PY" - "$raw" "$group" "$svc" "$rep" "$((t1 - t0))" "$tck" "$((dur + warm))" "$dur" \
        >>"$results" <<'EOF'
import json, sys
raw, group, svc, rep, ticks, tck, total_s, dur = sys.argv[1:]
try:
    with open(raw) as f:
        j = json.load(f)
except (OSError, ValueError):
    j = {"rps": 0, "requests": 0, "errors": -1, "timeouts": 0, "body_mib_per_s": 0,
         "latency_ms": {}}
# CPU over warm-up + window, divided by the requests of that time (rate x total seconds).
reqs_total = j["rps"] * int(total_s)
cpu = int(ticks) / int(tck) * 1e6 / reqs_total if reqs_total else None
print(json.dumps({"group": group, "name": svc, "baseline": "echo", "repeat": int(rep),
                  "vs": "virus_scan" if svc.startswith("webwarden_scan") else None,
                  "rps": j["rps"], "mib_s": j["body_mib_per_s"], "requests": j["requests"],
                  "p50": j["latency_ms"].get("p50"), "p90": j["latency_ms"].get("p90"),
                  "p99": j["latency_ms"].get("p99"), "max": j["latency_ms"].get("max"),
                  "errors": j["errors"], "timeouts": j["timeouts"],
                  "unfinished": j.get("unfinished", 0),
                  "status": j.get("status"), "cpu_us_req": {"c-icap": cpu}}))
EOF
    tail -n 1 "$outdir/icapload.log" >&2
}

cells=()
for c in ${concs//,/ }; do
    for test in ${only//,/ }; do
        case $test in
        reqmod) list="echo webwarden_url" ;;
        64k | 1m) list="echo webwarden_scan webwarden_scan_hold virus_scan" ;;
        *) bl_die "--only: unknown test $test (reqmod, 64k, 1m)" ;;
        esac
        for s in $list; do
            case " $have " in *" $s "*) cells+=("$test $s $c") ;; esac
        done
    done
done
ncells=${#cells[@]}
bl_log "$ncells cells x $repeats repeats x $((dur + warm)) s = about $((ncells * repeats * (dur + warm))) s"
for rep in $(seq 1 "$repeats"); do
    for cell in "${cells[@]}"; do
        # shellcheck disable=SC2086
        run_cell $cell "$rep"
    done
done

# --- memory per c-icap child: each scanner alone next to echo, after one request -------------
# A c-icap with echo only, then echo + webwarden_scan, then echo + virus_scan (same signatures);
# Rss and Pss of every child from /proc/PID/smaps_rollup. Pss splits pages shared between the
# children (a database built before fork and shared copy-on-write counts half in each of 2).
mem_md=$outdir/memory.md
child_mem() { # PID: "rss_kib pss_kib"
    awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} END {print r+0, p+0}' "/proc/$1/smaps_rollup" 2>/dev/null
}
mem_run() { # NAME PARTFILE(or "") SERVICE-PATH
    local name=$1 part=$2 svc=$3 mconf=$tmp/c-icap-mem.conf mport pid kids k
    local -a mwrap=()
    mport=$(bl_free_port)
    bl_cicap_conf "$mconf" "$mport" "$tmp/var" "$threads" || return 1
    [ -n "$part" ] && cat "$part" >>"$mconf"
    [ "$name" = virus_scan ] && mwrap=("${wrap[@]}")
    bl_start_cicap "$mconf" "$tmp/var" "$mport" "${mwrap[@]}" || return 1
    bl_icap_probe "$ICAPLOAD" "$mport" "$svc" respmod "$tmp/body-64k.bin" || bl_log "mem: $name probe failed"
    pid=$BL_CICAP_PID
    kids=$(bl_cicap_children "$pid" 30)
    [ -n "$kids" ] || bl_log "mem: no c-icap child for $name within 30 s"
    for k in $kids; do
        set -- $(child_mem "$k")
        echo "| $name | $k | $(($1 / 1024)) | $(($2 / 1024)) |"
    done
    bl_stop_pid "$pid"
    BL_CICAP_PID=
}
if [ -n "${BL_CICAP_PID:-}" ]; then
    bl_stop_pid "$BL_CICAP_PID"
    BL_CICAP_PID=
fi
{
    echo "| c-icap with | child PID | RSS MiB | PSS MiB |"
    echo "|---|---|---|---|"
    mem_run echo "" echo
    [ -f "$tmp/conf-ww.part" ] && mem_run webwarden_scan "$tmp/conf-ww.part" webwarden_scan
    [ -f "$tmp/conf-clam.part" ] && mem_run virus_scan "$tmp/conf-clam.part" "virus_scan?allow204=on&sizelimit=off&mode=simple"
} >"$mem_md"

{
    echo "# ICAP benchmark $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Loopback, c-icap $(dpkg-query -W -f '${Version}' c-icap 2>/dev/null), 2 children x $threads threads;"
    echo "bench/icapload, $repeats interleaved repeats of $dur s (+$warm s warm-up) per cell;"
    echo "preview $preview, Allow 204 $allow; signatures: $sigs_desc."
    echo "Load average at start: $(sed -n 's/^load average at start: //p' "$outdir/env.txt")."
    echo
    bl_summary "$results"
    echo
    echo "Memory per c-icap child (echo alone, then echo + each scanner; after one request):"
    echo
    cat "$mem_md"
    echo
    echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$outdir/summary.md"
cat "$outdir/summary.md"
