#!/usr/bin/env python3
"""Markdown table of medians from the JSON lines written by bench/run-icap.sh and run-squid.sh.

  bench/summary.py RESULTS.jsonl

One JSON object a line, one per measured cell and repeat:
  {"group": "RESPMOD 64 KiB c=8", "name": "webwarden_scan", "baseline": "echo", "repeat": 1,
   "rps": 1234.5, "mib_s": 77.1, "p50": 0.81, "p99": 2.9, "errors": 0, "timeouts": 0,
   "requests": 6172, "cpu_us_req": {"c-icap": 220.0}}
Rows keep the order in which groups and names first appear. "vs baseline" is the median req/s
of the row divided by the median req/s of the row named by its "baseline" in the same group
(e.g. echo); a row whose baseline is null or absent gets no ratio. A row with "vs": NAME also
gets a ratio line against that row of its group (webwarden_scan / virus_scan).
"""
import json
import statistics
import sys


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float) and v >= 100:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, nd)


def share204(rs):
    """Share of ICAP 204 answers (no body sent back) among all answers, when known."""
    n204 = tot = 0
    for r in rs:
        st = r.get("status") or {}
        if "204" in st:
            n204 += int(st["204"])
            tot += int(st["204"]) + int(st.get("200", 0)) + int(st.get("other", 0))
    return "%.0f%%" % (100.0 * n204 / tot) if tot else "–"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summary.py RESULTS.jsonl")
    rows = []
    with open(sys.argv[1]) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                sys.exit("%s:%d: %s" % (sys.argv[1], n, e))
    groups, cells, cpu_keys = [], {}, []
    for r in rows:
        key = (r["group"], r["name"])
        if r["group"] not in groups:
            groups.append(r["group"])
        cells.setdefault(key, []).append(r)
        for k in (r.get("cpu_us_req") or {}):
            if k not in cpu_keys:
                cpu_keys.append(k)

    def med(rs, field, sub=None):
        vals = []
        for r in rs:
            v = r.get(field)
            if sub is not None:
                v = (v or {}).get(sub)
            if v is not None:
                vals.append(float(v))
        return statistics.median(vals) if vals else None

    head = ["test", "service", "runs", "req/s (median)", "spread", "vs baseline", "body MiB/s",
            "p50 ms", "p99 ms", "errors", "timeouts", "unfinished", "204 share"] + ["%s CPU-µs/req" % k for k in cpu_keys]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    ratios = []
    for g in groups:
        names = [n for (gg, n) in cells if gg == g]
        for n in names:
            rs = cells[(g, n)]
            base_name = rs[0].get("baseline")
            base = cells.get((g, base_name)) if base_name else None
            base_rps = med(base, "rps") if base else None
            rps = med(rs, "rps")
            vals = [float(r["rps"]) for r in rs]
            spread = (max(vals) - min(vals)) / rps * 100 if rps else None
            ratio = None
            if base_rps and n != base_name and rps is not None:
                ratio = rps / base_rps
                ratios.append("%s / %s = %.2f (%s)" % (n, base_name, ratio, g))
            other = cells.get((g, rs[0].get("vs"))) if rs[0].get("vs") else None
            if other and rps is not None and med(other, "rps"):
                ratios.append("%s / %s = %.2f (%s)" % (n, rs[0]["vs"], rps / med(other, "rps"), g))
            line = [g, n, str(len(rs)), fmt(rps), fmt(spread, 0) + "%" if spread is not None
                    else "–", "%.2f" % ratio if ratio is not None else "–",
                    fmt(med(rs, "mib_s")), fmt(med(rs, "p50"), 3), fmt(med(rs, "p99"), 3),
                    str(sum(int(r.get("errors", 0)) for r in rs)),
                    str(sum(int(r.get("timeouts", 0)) for r in rs)),
                    str(sum(int(r["unfinished"]) for r in rs)) if any("unfinished" in r for r in rs)
                    else "–", share204(rs)]
            line += [fmt(med(rs, "cpu_us_req", k), 0) for k in cpu_keys]
            print("| " + " | ".join(line) + " |")
    if ratios:
        print()
        for r in ratios:
            print("- " + r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
