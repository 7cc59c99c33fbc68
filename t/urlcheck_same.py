#!/usr/bin/env python3
"""t/urlcheck_same.py JSON ACCESS_LOG ICAP_ANSWER - t/it_urlcheck.sh's comparison: the verdict
`webwardenctl url-check --json` printed (JSON) against the access-log line c-icap wrote for the
same canonical URL and the ICAP answer it gave. Exit 0 and one summary line when they agree,
else 1 and both sides. The log line is polled for up to 5 s (c-icap writes it after the
answer)."""
import json
import re
import sys
import time

u = json.load(open(sys.argv[1]))
want = {"action": u["decision"], "score": "-" if u["score"] is None else str(u["score"]),
        "category": ",".join(u["categories"]) or ("unrated" if u["score"] == 0 else "-"),
        "source": u["source"], "reason": u["reason"]}
pat = re.compile(r' action=(\S+) url=(\S+) reason="(.*)" score=(\S+) category=(\S+) .* '
                 r'source=(\S+) ')
line = None
for _ in range(50):
    with open(sys.argv[2]) as f:
        for entry in f:
            m = pat.search(entry)
            if m and m.group(2) == u["url"]:
                line = m
    if line:
        break
    time.sleep(0.1)
if not line:
    sys.exit("no access-log line for %s" % u["url"])
got = {"action": line.group(1), "reason": line.group(3), "score": line.group(4),
       "category": line.group(5), "source": line.group(6)}
icap = open(sys.argv[3]).read()
answer = "block" if "403 Forbidden" in icap else "allow" if "ICAP/1.0 204" in icap else "other"
if got != want or answer != want["action"]:
    sys.exit("c-icap %s (answer %s); url-check %s" % (got, answer, want))
print("%s: %s by %s (%s)" % (u["url"], u["decision"], u["source"], u["reason"]))
