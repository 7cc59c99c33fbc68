#!/bin/bash
# bench/run-deep.sh - issue 13 targets b and c: Webwarden's webwarden_scan with deep scanning
# against c-icap's virus_scan with libclamav, on the same generated ClamAV database.
#   speed:  the web-mix corpus (bench/gen-webmix.py) round-robin through bench/icapload -F, cells
#           interleaved, repeats, medians, ratio; the verdict on every corpus body by both
#   memory: a 1M-signature database (bench/gen-clamdb.py); each c-icap child's PSS at steady
#           state, the load time, and total PSS every 0.25 s through a reload
# See bench/README.md. Every load loop is bounded; every server is stopped by its PID.
set -u

usage() {
    cat <<EOF
Usage: bench/run-deep.sh [options]
  -o DIR         results folder (default bench/results/deep-<date>-<time>/)
  -r N           interleaved repeats (default 3; --quick 1)
  -d SECONDS     measured seconds per cell (default 8; --quick 2)
  -w SECONDS     warm-up seconds per cell (default 2; --quick 0)
  -c LIST        concurrencies (default 1,8,16; --quick 8)
  -p BYTES       preview size sent (default 1024, as Squid)
  --sigs N       signatures of the speed test's database (default 200000; --quick 20000)
  --mem-sigs N   signatures of the memory test's database (default 1000000; --quick 50000)
  --children N   c-icap children in the memory test (default 3)
  --only LIST    speed, memory or both (default speed,memory)
  --ww-fast-db   speed: Webwarden's fast engine gets the database's .hdb .hsb .ndb too (a copy
                 in scan.patterns_dir), so every body meets every signature as in virus_scan
  --quick        a smoke run of about a minute
  --install      apt-get install libc-icap-mod-virus-scan first
Needs root (virus_scan's database folder is bind-mounted over /var/lib/clamav in a private
mount namespace of its c-icap alone: clamav_mod has no directive for it), c-icap,
libc-icap-mod-virus-scan and clamav-testfiles. Environment: top_builddir, CICAP_BIN, WW_MODULES_DIR.
EOF
}

BL_DIR=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$BL_DIR/.." && pwd)}
. "$BL_DIR/bench-lib.sh"
top_builddir=$(bl_builddir)

outdir='' repeats='' dur='' warm='' concs='' preview=1024 nsigs='' msigs='' children=3
only=speed,memory quick=0 install=0 fastdb=0
while [ $# -gt 0 ]; do
    case $1 in
    -o) outdir=${2:?}; shift 2 ;;
    -r) repeats=${2:?}; shift 2 ;;
    -d) dur=${2:?}; shift 2 ;;
    -w) warm=${2:?}; shift 2 ;;
    -c) concs=${2:?}; shift 2 ;;
    -p) preview=${2:?}; shift 2 ;;
    --sigs) nsigs=${2:?}; shift 2 ;;
    --mem-sigs) msigs=${2:?}; shift 2 ;;
    --children) children=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    --install) install=1; shift ;;
    --ww-fast-db) fastdb=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
if [ "$quick" = 1 ]; then
    repeats=${repeats:-1} dur=${dur:-2} warm=${warm:-0} concs=${concs:-8}
    nsigs=${nsigs:-20000} msigs=${msigs:-50000}
else
    repeats=${repeats:-3} dur=${dur:-8} warm=${warm:-2} concs=${concs:-1,8,16}
    nsigs=${nsigs:-200000} msigs=${msigs:-1000000}
fi
isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
isnum "$repeats" 1 20 || bl_die "-r: 1 to 20"
isnum "$dur" 1 600 || bl_die "-d: 1 to 600"
isnum "$warm" 0 60 || bl_die "-w: 0 to 60"
isnum "$preview" 0 1048576 || bl_die "-p: 0 to 1048576"
isnum "$nsigs" 0 20000000 || bl_die "--sigs: 0 to 20000000"
isnum "$msigs" 0 20000000 || bl_die "--mem-sigs: 0 to 20000000"
isnum "$children" 1 16 || bl_die "--children: 1 to 16"
maxc=1
for c in ${concs//,/ }; do
    isnum "$c" 1 256 || bl_die "-c: each concurrency 1 to 256"
    [ "$c" -gt "$maxc" ] && maxc=$c
done

[ "$(id -u)" = 0 ] || bl_die "needs root (the bind mount of virus_scan's database folder)"
command -v unshare >/dev/null || bl_die "unshare not found (util-linux)"
if [ "$install" = 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libc-icap-mod-virus-scan >&2 ||
        bl_die "apt-get install failed"
fi
bl_icapload "$top_builddir"
[ -x "${CICAP_BIN:-/usr/bin/c-icap}" ] || bl_die "c-icap not installed"
SYSMODS=$(c-icap-config --modulesdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/c_icap)
[ -r "$SYSMODS/virus_scan.so" ] && [ -r "$SYSMODS/clamav_mod.so" ] ||
    bl_die "c-icap's virus_scan not installed (apt-get install libc-icap-mod-virus-scan, or --install)"
[ -r /usr/share/clamav-testfiles/clam.exe ] || bl_die "clamav-testfiles not installed"
WW_MODULES_DIR=${WW_MODULES_DIR:-$top_builddir/modules/.libs}
ww_scan_so=$WW_MODULES_DIR/srv_webwarden_scan.so
[ -r "$ww_scan_so" ] || bl_die "$ww_scan_so not built"

outdir=${outdir:-$top_srcdir/bench/results/deep-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$outdir" || bl_die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-bench-deep.XXXXXX") || bl_die "mktemp failed"
LOADPID=
cleanup() {
    [ -n "$LOADPID" ] && bl_stop_pid "$LOADPID" 5
    [ -n "${BL_CICAP_PID:-}" ] && bl_stop_pid "$BL_CICAP_PID" 20
    [ -f "$tmp/var/log/server.log" ] && tail -n 200 "$tmp/var/log/server.log" >"$outdir/cicap-server.log.tail"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bl_env_info >"$outdir/env.txt"
bl_log "results in $outdir"

VS_PATH="virus_scan?allow204=on&sizelimit=off&mode=simple"

# ww_conf OUT DBDIR: webwarden.conf for the benchmark: no lists, no reputation server, deep
# scanning on with the default scan.deep_types, the ClamAV database in DBDIR, Webwarden's own
# patterns (EICAR only: bench/gen-sigs.py --eicar) in scan.patterns_dir.
ww_conf() {
    local out=$1 db=$2
    mkdir -p "$tmp/ww-patterns" "$tmp/var/tmp"
    [ -f "$tmp/ww-patterns/eicar.hsb" ] || "$BL_PY" "$BL_DIR/gen-sigs.py" --eicar "$tmp/ww-patterns" ||
        bl_die "gen-sigs.py failed"
    cat >"$out" <<EOF
# webwarden.conf written by bench/run-deep.sh
[gateway]
block_page = $top_srcdir/etc/block.html
[state]
database = $tmp/state.db
[scan]
patterns_dir = $tmp/ww-patterns
tmp_dir = $tmp/var/tmp
[clamav]
database_dir = $db
enabled = on
EOF
    if [ ! -f "$tmp/state.db" ] && [ -x "$top_builddir/src/webwardenctl" ]; then
        "$top_builddir/src/webwardenctl" -c "$out" init >>"$outdir/webwardenctl-init.txt" 2>&1 ||
            bl_log "warning: webwardenctl init failed (see webwardenctl-init.txt)"
    fi
}

# cicap_conf OUT PORT THREADS CHILDREN WW(0|1) VS(0|1) WWCONF: c-icap with echo and the scanners.
# virus_scan scans every type c-icap's magic file knows (the same coverage as Webwarden's fast
# engine, which scans every body), objects up to 100M, with clamav_mod's defaults otherwise.
cicap_conf() {
    local out=$1 port=$2 threads=$3 kids=$4 ww=$5 vs=$6 wwc=$7
    bl_cicap_conf "$out" "$port" "$tmp/var" "$threads" || return 1
    sed -i "s/^StartServers .*/StartServers $kids/; s/^MaxServers .*/MaxServers $kids/" "$out"
    if [ "$ww" = 1 ]; then
        printf 'Service webwarden_scan %s\nwebwarden_scan.ConfigFile %s\n' "$ww_scan_so" "$wwc" >>"$out"
    fi
    if [ "$vs" = 1 ]; then
        mkdir -p "$tmp/clamtmp"
        cat >>"$out" <<EOF
Module common clamav_mod.so
clamav_mod.TmpDir $tmp/clamtmp
Service virus_scan virus_scan.so
virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GRAPHICS STREAM DOCUMENT
virus_scan.MaxObjectSize 100M
virus_scan.DefaultEngine clamav
EOF
    fi
}

# start_cicap CONF PORT DBDIR: c-icap with DBDIR bind-mounted over /var/lib/clamav (for
# clamav_mod) in its own mount namespace; sets BL_CICAP_PID.
start_cicap() {
    mkdir -p "$tmp/var/log"
    bl_start_cicap "$1" "$tmp/var" "$2" unshare -m --propagation private \
        sh -c 'mount --bind "$0" /var/lib/clamav && exec "$@"' "$3"
}

# kids PID: the c-icap children of PID (their parent is PID).
kids() {
    # cat, not awk, opens the files: a process may vanish between the glob and the read.
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '$4 == p {print $1}'
}
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }
rss_kib() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }
total_pss() { # PID: PSS of PID and its children, KiB
    local t=0 p v
    for p in "$1" $(kids "$1"); do
        v=$(pss_kib "$p")
        t=$((t + ${v:-0}))
    done
    echo "$t"
}

# wait_answer PORT PATH SECS: until the service answers a RESPMOD (200/204).
wait_answer() {
    local end=$((SECONDS + $3))
    while [ "$SECONDS" -lt "$end" ]; do
        bl_icap_probe "$ICAPLOAD" "$1" "$2" respmod "$tmp/probe.bin" && return 0
        sleep 0.25
    done
    return 1
}

secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

head -c 4096 /dev/urandom >"$tmp/probe.bin"
md=$outdir/summary.md
{
    echo "# Deep-scan benchmark $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs."
} >"$md"

# === (b) speed ==================================================================================
if [[ ",$only," == *,speed,* ]]; then
    bl_log "web-mix corpus and a $nsigs-signature database"
    if [ "$quick" = 1 ]; then
        "$BL_PY" "$BL_DIR/gen-webmix.py" --total 2000000 --requests 60 "$tmp/webmix" || bl_die "gen-webmix.py failed"
    else
        "$BL_PY" "$BL_DIR/gen-webmix.py" "$tmp/webmix" || bl_die "gen-webmix.py failed"
    fi
    cp "$tmp/webmix/mix.md" "$tmp/webmix/expect.txt" "$outdir/"
    "$BL_PY" "$BL_DIR/gen-clamdb.py" --total "$nsigs" "$tmp/db" || bl_die "gen-clamdb.py failed"
    ww_conf "$tmp/ww.conf" "$tmp/db"
    ww_patterns="EICAR only (bench/gen-sigs.py --eicar)"
    if [ "$fastdb" = 1 ]; then
        cp "$tmp/db"/*.hdb "$tmp/db"/*.hsb "$tmp/db"/*.ndb "$tmp/ww-patterns/" || bl_die "cp failed"
        ww_patterns="EICAR + a copy of the database's .hdb .hsb .ndb (--ww-fast-db)"
    fi
    cp "$tmp/ww.conf" "$outdir/webwarden.conf"
    port=$(bl_free_port)
    threads=$((maxc > 64 ? maxc : 64))
    cicap_conf "$tmp/c-icap.conf" "$port" "$threads" 2 1 1 "$tmp/ww.conf"
    cp "$tmp/c-icap.conf" "$outdir/c-icap-speed.conf"
    t0=$(date +%s.%N)
    start_cicap "$tmp/c-icap.conf" "$port" "$tmp/db" || bl_die "c-icap did not start"
    wait_answer "$port" webwarden_scan 300 || bl_die "webwarden_scan does not answer"
    wait_answer "$port" "$VS_PATH" 300 || bl_die "virus_scan does not answer"
    bl_log "both services answer after $(secs_since "$t0") s"

    # Detections: every corpus body once through each service.
    bl_log "verdicts on the corpus"
    for s in webwarden_scan "$VS_PATH"; do
        n=${s%%\?*}
        "$BL_PY" "$BL_DIR/icap-verdict.py" "$port" "$s" "$tmp/webmix/list.txt" >"$outdir/verdicts-$n.txt" ||
            bl_log "warning: $n left some bodies without an answer (verdicts-$n.txt)"
    done
    "$BL_PY" - "$tmp/webmix/expect.txt" "$outdir/verdicts-webwarden_scan.txt" \
        "$outdir/verdicts-virus_scan.txt" >"$outdir/detections.md" <<'EOF'
import sys
exp = dict((l.split()[0], l.split()[1]) for l in open(sys.argv[1]) if not l.startswith("#"))
ww = dict((l.split()[0], l.split()[1:]) for l in open(sys.argv[2]))
vs = dict((l.split()[0], l.split()[1:]) for l in open(sys.argv[3]))
want = {"clean": "allowed", "infected": "blocked"}
bad, inf = [], 0
for p, e in sorted(exp.items()):
    w, v = ww.get(p, ["missing", ""]), vs.get(p, ["missing", ""])
    inf += e == "infected"
    if w[0] != want[e] or v[0] != want[e]:
        bad.append("| %s | %s | %s %s | %s %s |" % (p, e, w[0], w[1], v[0], v[1]))
print("Detections on the corpus: %d bodies (%d infected, %d clean); each infected one blocked "
      "and each clean one allowed by both services: %s." % (len(exp), inf, len(exp) - inf,
                                                            "yes" if not bad else "NO"))
if bad:
    print("\n| body | expected | webwarden_scan | virus_scan |\n|---|---|---|---|")
    print("\n".join(bad))
EOF
    cat "$outdir/detections.md" >&2

    results=$outdir/results.jsonl
    : >"$results"
    ncells=$(($(echo "${concs//,/ }" | wc -w) * 3 * repeats))
    bl_log "$ncells cells of $((dur + warm)) s"
    for rep in $(seq 1 "$repeats"); do
        for c in ${concs//,/ }; do
            for s in webwarden_scan webwarden_scan_hold virus_scan; do
                case $s in
                webwarden_scan_hold) path="webwarden_scan?hold_all=on" ;;
                virus_scan) path=$VS_PATH ;;
                *) path=$s ;;
                esac
                raw=$outdir/raw-c$c-$s-r$rep.json
                "$ICAPLOAD" -P "$port" -s "$path" -m respmod -F "$tmp/webmix/list.txt" -p "$preview" \
                    -c "$c" -d "$dur" -W "$warm" -t 60000 -l "web-mix c=$c $s r$rep" --json \
                    >"$raw" 2>>"$outdir/icapload.log"
                tail -n 1 "$outdir/icapload.log" >&2
                "$BL_PY" - "$raw" "$c" "$s" "$rep" >>"$results" <<'EOF'
import json, sys
raw, c, s, rep = sys.argv[1:]
try:
    j = json.load(open(raw))
except (OSError, ValueError):
    j = {"rps": 0, "errors": -1, "timeouts": 0, "body_mib_per_s": 0, "latency_ms": {}, "status": {}}
print(json.dumps({"c": int(c), "name": s, "repeat": int(rep), "rps": j["rps"],
                  "mib_s": j["body_mib_per_s"], "errors": j["errors"], "timeouts": j["timeouts"],
                  "other": j["status"].get("other"), "p50": j["latency_ms"].get("p50"),
                  "p99": j["latency_ms"].get("p99")}))
EOF
            done
        done
    done
    load_end=$(cut -d' ' -f1-3 /proc/loadavg)
    bl_stop_pid "$BL_CICAP_PID" 20
    BL_CICAP_PID=
    {
        echo
        echo "## Speed: web-mix corpus (bench/gen-webmix.py), $nsigs-signature database (bench/gen-clamdb.py)"
        echo
        echo "c-icap $(dpkg-query -W -f '${Version}' c-icap 2>/dev/null), 2 children; bench/icapload -F,"
        echo "preview $preview, Allow 204; $repeats interleaved repeats of $dur s (+$warm s warm-up)."
        echo "webwarden_scan: default scan.deep_types, the database in clamav.database_dir, scan.patterns_dir: $ww_patterns;"
        echo "virus_scan: every file type, the database in /var/lib/clamav (bind mount). Load at end: $load_end."
        echo
        cat "$outdir/mix.md"
        echo
        cat "$outdir/detections.md"
        echo
        "$BL_PY" - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cs = sorted(set(r["c"] for r in rows))
names = ["webwarden_scan", "webwarden_scan_hold", "virus_scan"]
print("| c | service | req/s median | min-max | MiB/s | p50 ms | p99 ms | errors | ratio to virus_scan |")
print("|---|---|---|---|---|---|---|---|---|")
for c in cs:
    med = {}
    for n in names:
        rr = [r for r in rows if r["c"] == c and r["name"] == n]
        if rr:
            med[n] = statistics.median(r["rps"] for r in rr)
    for n in names:
        rr = [r for r in rows if r["c"] == c and r["name"] == n]
        if not rr:
            continue
        ratio = med[n] / med["virus_scan"] if med.get("virus_scan") else float("nan")
        print("| %d | %s | %.1f | %.1f-%.1f | %.1f | %.2f | %.2f | %d | %.2f |" % (
            c, n, med[n], min(r["rps"] for r in rr), max(r["rps"] for r in rr),
            statistics.median(r["mib_s"] for r in rr), statistics.median(r["p50"] or 0 for r in rr),
            statistics.median(r["p99"] or 0 for r in rr), sum(r["errors"] + (r["other"] or 0) for r in rr),
            ratio))
print()
print("Per repeat (req/s, webwarden_scan / virus_scan): " + "; ".join(
    "c=%d r%d %s / %s" % (c, rep, *[("%.0f" % r["rps"]) for n in ("webwarden_scan", "virus_scan")
                                     for r in rows if r["c"] == c and r["repeat"] == rep and r["name"] == n])
    for c in cs for rep in sorted(set(r["repeat"] for r in rows))))
EOF
    } >>"$md"
fi

# === (c) memory =================================================================================
# mem_run NAME WW VS PATH: c-icap with echo and one scanner on the big database; load time,
# PSS per child at steady state, then a reload with total PSS sampled every 0.25 s.
mem_run() {
    local name=$1 ww=$2 vs=$3 path=$4 port t0 t1 pid k base peak v end n=0 loadjson
    port=$(bl_free_port)
    cicap_conf "$tmp/c-icap-mem.conf" "$port" 8 "$children" "$ww" "$vs" "$tmp/wwm.conf"
    cp "$tmp/c-icap-mem.conf" "$outdir/c-icap-mem-$name.conf"
    t0=$(date +%s.%N)
    start_cicap "$tmp/c-icap-mem.conf" "$port" "$tmp/mdb" || { bl_log "mem: $name did not start"; return 1; }
    pid=$BL_CICAP_PID
    wait_answer "$port" "$path" 600 || { bl_log "mem: $name does not answer"; bl_stop_pid "$pid" 20; BL_CICAP_PID=; return 1; }
    t1=$(date +%s.%N)
    # Steady state: every child answered requests (the corpus, if there is one, else the probe).
    "$ICAPLOAD" -P "$port" -s "$path" -m respmod -f "$tmp/probe.bin" -c $((children * 4)) -n $((children * 40)) -t 60000 >/dev/null 2>&1
    sleep 2
    echo "| $name | $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s | $(($(rss_kib "$pid") / 1024)) | $(($(pss_kib "$pid") / 1024)) | $(($(total_pss "$pid") / 1024)) |" >>"$tmp/mem-load.md"
    for k in $(kids "$pid"); do
        echo "| $name | $k | $(($(rss_kib "$k") / 1024)) | $(($(pss_kib "$k") / 1024)) |" >>"$tmp/mem-kids.md"
        echo "$name $(pss_kib "$k")" >>"$tmp/mem-pss.txt"
    done
    base=$(total_pss "$pid")
    # Reload: a new file in the database folder (Webwarden's monitor watches it); virus_scan
    # reloads on c-icap's command clamav:dbreload (each child loads its own engine).
    # Load during the reload: 2 s runs of icapload -c 2 until the sampling ends (at most 100).
    rm -f "$tmp/stop-load"
    (for _ in $(seq 1 100); do
        [ -f "$tmp/stop-load" ] && break
        "$ICAPLOAD" -P "$port" -s "$path" -m respmod -f "$tmp/probe.bin" -c 2 -d 2 -t 60000 --json 2>/dev/null
    done) >"$outdir/reload-load-$name.jsonl" &
    LOADPID=$!
    echo "Bench.Reload.New-$name:0:*:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$tmp/mdb/reload-$name.ndb"
    if [ "$vs" = 1 ]; then
        sleep 1
        printf 'clamav:dbreload' >"$tmp/var/run/c-icap.ctl" &
        local ctlpid=$!
        sleep 1
        kill "$ctlpid" 2>/dev/null
    fi
    peak=$base k=0 peak_at=$SECONDS
    end=$((SECONDS + 240))
    t0=$(date +%s.%N)
    : >"$outdir/reload-pss-$name.txt"
    while [ "$SECONDS" -lt "$end" ]; do
        v=$(total_pss "$pid")
        echo "$(secs_since "$t0") $v" >>"$outdir/reload-pss-$name.txt"
        [ "$v" -gt "$peak" ] && peak=$v peak_at=$SECONDS
        n=$((n + 1))
        # Done once it went up and came back within 25% of the start for 5 s (20 samples).
        if [ "$peak" -gt $((base * 5 / 4)) ] && [ "$v" -le $((base * 5 / 4)) ]; then
            k=$((k + 1))
            [ "$k" -ge 20 ] && break
        else
            k=0
        fi
        # virus_scan: each child holds its own copy after clamav:dbreload, so it stays up.
        [ "$vs" = 1 ] && [ "$peak" -gt $((base * 5 / 4)) ] && [ $((SECONDS - peak_at)) -ge 20 ] && break
        sleep 0.25
    done
    n=$(secs_since "$t0")
    touch "$tmp/stop-load"
    wait "$LOADPID"
    LOADPID=
    v=$(total_pss "$pid")
    loadjson=$("$BL_PY" -c 'import json, sys
js = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("%d requests, %d errors, %d timeouts, %d neither 200 nor 204" % (tuple(
    sum(j[k] for j in js) for k in ("requests", "errors", "timeouts")) + (sum(j["status"]["other"] for j in js),)))' \
        "$outdir/reload-load-$name.jsonl" 2>/dev/null)
    echo "| $name | $((base / 1024)) | $((peak / 1024)) | $((v / 1024)) | $n s | ${loadjson:-?} |" >>"$tmp/mem-reload.md"
    rm -f "$tmp/mdb/reload-$name.ndb"
    bl_stop_pid "$pid" 30
    grep -i -E "webwarden|clamav|reconfigure|deep" "$tmp/var/log/server.log" | grep -v "VIRUS DETECTED" |
        tail -n 50 >"$outdir/server-log-$name.txt"
    : >"$tmp/var/log/server.log"
    BL_CICAP_PID=
}

if [[ ",$only," == *,memory,* ]]; then
    bl_log "a $msigs-signature database for the memory test"
    "$BL_PY" "$BL_DIR/gen-clamdb.py" --total "$msigs" "$tmp/mdb" || bl_die "gen-clamdb.py failed"
    ww_conf "$tmp/wwm.conf" "$tmp/mdb"
    for f in mem-load.md mem-kids.md mem-reload.md mem-pss.txt; do : >"$tmp/$f"; done
    mem_run virus_scan 0 1 "$VS_PATH"
    mem_run webwarden_scan 1 0 webwarden_scan
    {
        echo
        echo "## Memory: $msigs signatures (bench/gen-clamdb.py: .hdb .hsb .ndb .ldb), $children children"
        echo
        echo "| c-icap with | start until the first answer | monitor RSS MiB | monitor PSS MiB | total PSS MiB (monitor + children) |"
        echo "|---|---|---|---|---|"
        cat "$tmp/mem-load.md"
        echo
        echo "| c-icap with | child PID | RSS MiB | PSS MiB |"
        echo "|---|---|---|---|"
        cat "$tmp/mem-kids.md"
        echo
        "$BL_PY" - "$tmp/mem-pss.txt" <<'EOF'
import statistics, sys
d = {}
for l in open(sys.argv[1]):
    n, v = l.split()
    d.setdefault(n, []).append(int(v))
if "webwarden_scan" in d and "virus_scan" in d:
    for f, what in ((statistics.mean, "Mean"), (statistics.median, "Median"), (max, "Largest")):
        w, v = f(d["webwarden_scan"]), f(d["virus_scan"])
        print("%s child PSS: webwarden_scan %.1f MiB, virus_scan %.1f MiB: ratio %.2f (target <= 1.2).  "
              % (what, w / 1024, v / 1024, w / v))
EOF
        echo
        echo "Reload (a new .ndb in the folder; virus_scan also gets clamav:dbreload), total PSS of monitor + children, sampled every 0.25 s (plus the time a sample takes; reload-pss-*.txt: seconds, KiB), with icapload -c 2 running:"
        echo
        echo "| c-icap with | before MiB | peak MiB | after MiB | sampled | requests during the reload |"
        echo "|---|---|---|---|---|---|"
        cat "$tmp/mem-reload.md"
    } >>"$md"
fi
echo >>"$md"
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$md"
cat "$md"
