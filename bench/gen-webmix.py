#!/usr/bin/env python3
"""Writes a web-mix corpus: the bodies of a typical day of web traffic, weighted by bytes.

  bench/gen-webmix.py [--seed S] [--total BYTES] [--requests N] [--no-infected] DIR

DIR gets the bodies and DIR/list.txt, one line per body: "PATH CONTENT-TYPE URL", the format
of `bench/icapload -F`. DIR/expect.txt names each body with its expected verdict ("clean" or
"infected") and its kind; DIR/mix.md is the table of the mix as written. The same seed and
sizes give the same bytes (Python stdlib only: random.Random(seed), zlib, zipfile with a fixed
date).

Byte shares (--total, default 8 MiB), from HTTP Archive's "Page Weight" report
(https://httparchive.org/reports/page-weight, desktop, 2024: per page about 1,000 KB of
images, 600 KB of JavaScript, 130 KB of fonts, 80 KB of CSS, 30 KB of HTML, and video on a
minority of pages, large where present) with the downloads a gateway also sees (software,
documents, archives):

  images 38% (JPEG 20, PNG 15, GIF 3), JavaScript 22%, video 15% (one MP4), fonts 5% (woff2),
  JSON 3%, CSS 3%, HTML 2%, downloads 12% (zip 4, PE executables 5, PDF 3)

Request counts per 200 (--requests): the same report's requests per page (about 70: 25 images,
22 scripts, 8 stylesheets, 4 fonts, a few documents, the rest XHR/JSON): images 78, JS 44,
JSON 20, CSS 14, HTML 8, fonts 8, video 1, downloads 10 (4 zip, 3 PE, 3 PDF). Sizes within a
kind vary log-normally (sigma 0.8) around the kind's share.

Infected items (left out with --no-infected): EICAR as a plain body and inside a zip,
clam.exe (ClamAV's test program, from Debian's clamav-testfiles) as a body and inside a zip,
and the package's clam.pdf and clam.7z. Each image, video and font starts with its format's
real header (PNG signature and IHDR with CRCs, JPEG SOI/APP0/DQT/SOF0/DHT/SOS, GIF89a with a
colour table, MP4 ftyp/moov/mdat, wOF2); PE files have valid MZ/PE/section headers; PDFs have
objects, a Flate content stream and an xref table; zips hold text, a PNG and a small PE.
"""
import argparse
import io
import math
import os
import random
import struct
import sys
import zipfile
import zlib

TESTFILES = "/usr/share/clamav-testfiles"
# EICAR as hex: the test string itself is never written into a file of this project.
EICAR_HEX = ("58354f2150254041505b345c505a58353428505e2937434329377d24"
             "45494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a")

# kind: (byte share %, requests per 200, extension, Content-Type)
MIX = [
    ("jpeg", 20, 34, "jpg", "image/jpeg"),
    ("png", 15, 36, "png", "image/png"),
    ("gif", 3, 8, "gif", "image/gif"),
    ("js", 22, 44, "js", "application/javascript"),
    ("mp4", 15, 1, "mp4", "video/mp4"),
    ("woff2", 5, 8, "woff2", "font/woff2"),
    ("json", 3, 20, "json", "application/json"),
    ("css", 3, 14, "css", "text/css"),
    ("html", 2, 8, "html", "text/html; charset=utf-8"),
    ("zip", 4, 4, "zip", "application/zip"),
    ("pe", 5, 3, "exe", "application/x-msdownload"),
    ("pdf", 3, 3, "pdf", "application/pdf"),
]

WORDS = ("the of and to in is for on with as by at from this that be are was or an it not "
         "page user data value item list menu header footer content button image link search "
         "product price cart account login news video share comment author date title more "
         "function return var let const if else for while new this null true false").split()


class Gen:
    def __init__(self, seed):
        self.r = random.Random("gen-webmix-%d" % seed)  # not the stream of gen-clamdb.py's seed

    def words(self, n):
        return " ".join(self.r.choice(WORDS) for _ in range(n))

    def ident(self):
        return "".join(self.r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(self.r.randint(3, 10)))

    def noise(self, n):
        return self.r.randbytes(n)

    # --- text kinds: real-looking markup and code (ClamAV normalises HTML and JS) ---
    def html(self, size):
        out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>%s</title>\n<link rel=\"stylesheet\" href=\"/static/site.css\">\n"
               "<script src=\"/static/app.js\" defer></script></head>\n<body>\n" % self.words(5)]
        n = len(out[0])
        while n < size:
            r = self.r.random()
            if r < 0.5:
                s = "<div class=\"%s\"><p>%s</p><a href=\"/%s/%s.html\">%s</a></div>\n" % (
                    self.ident(), self.words(self.r.randint(10, 60)), self.ident(), self.ident(),
                    self.words(3))
            elif r < 0.7:
                s = "<ul>%s</ul>\n" % "".join("<li><a href=\"/%s\">%s</a></li>" % (self.ident(), self.words(2))
                                             for _ in range(self.r.randint(3, 12)))
            elif r < 0.85:
                s = "<img src=\"/img/%s.jpg\" alt=\"%s\" width=\"%d\" height=\"%d\">\n" % (
                    self.ident(), self.words(4), self.r.randint(50, 900), self.r.randint(50, 600))
            else:
                s = "<script>window.%s = {%s: %d, %s: \"%s\"};</script>\n" % (
                    self.ident(), self.ident(), self.r.randint(0, 99999), self.ident(), self.words(3))
            out.append(s)
            n += len(s)
        out.append("</body></html>\n")
        return "".join(out).encode()[:max(size, 64)]

    def js(self, size):
        out, n = ["\"use strict\";\n"], 14
        while n < size:
            f, a, b = self.ident(), self.ident(), self.ident()
            s = ("function %s(%s, %s) {\n  var %s = %s.%s(%d);\n  if (%s > %d) { return %s + \"%s\"; }\n"
                 "  for (let i = 0; i < %s.length; i++) { %s[i] = %s[i] * %d; }\n  return null;\n}\n" % (
                     f, a, b, self.ident(), a, self.ident(), self.r.randint(0, 999), b,
                     self.r.randint(0, 99), a, self.words(3), a, b, a, self.r.randint(2, 9)))
            out.append(s)
            n += len(s)
        return "".join(out).encode()[:size]

    def css(self, size):
        out, n = [], 0
        while n < size:
            s = ".%s-%s { color: #%06x; margin: %dpx %dpx; font: %dpx/%.1f sans-serif; }\n" % (
                self.ident(), self.ident(), self.r.randint(0, 0xFFFFFF), self.r.randint(0, 40),
                self.r.randint(0, 40), self.r.randint(9, 30), self.r.uniform(1, 2))
            out.append(s)
            n += len(s)
        return "".join(out).encode()[:size]

    def json(self, size):
        out, n = ["{\"items\": ["], 11
        while n < size:
            s = "{\"id\": %d, \"name\": \"%s\", \"price\": %.2f, \"tags\": [\"%s\", \"%s\"]}," % (
                self.r.randint(1, 10**9), self.words(3), self.r.uniform(1, 500), self.ident(), self.ident())
            out.append(s)
            n += len(s)
        body = "".join(out).rstrip(",")
        return (body[:max(size - 3, 12)].rsplit(",", 1)[0] + "]}\n").encode()

    # --- binary kinds with their real headers; the payload is compressed-looking noise ---
    def png(self, size):
        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
        w, h = self.r.randint(64, 1600), self.r.randint(64, 1200)
        head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
        tail = chunk(b"IEND", b"")
        idat = max(size - len(head) - len(tail) - 12, 16)
        return head + chunk(b"IDAT", b"\x78\x9c" + self.noise(idat - 2)) + tail

    def jpeg(self, size):
        w, h = self.r.randint(64, 2000), self.r.randint(64, 1500)
        head = (b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
                + b"\xff\xdb\x00\x43\x00" + bytes(self.r.randint(1, 60) for _ in range(64))
                + b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", h, w) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
                + b"\xff\xc4\x00\x1f\x00\x00\x01\x05\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00"
                + bytes(range(12))
                + b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00")
        scan = bytearray(self.noise(max(size - len(head) - 2, 16)))
        for i in range(len(scan)):  # entropy-coded data: 0xFF is followed by a stuffed 0x00
            if scan[i] == 0xFF:
                scan[i] = 0xFE
        return head + bytes(scan) + b"\xff\xd9"

    def gif(self, size):
        w, h = self.r.randint(16, 600), self.r.randint(16, 400)
        head = b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0) + self.noise(768)
        head += b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x08"
        data, n = bytearray(), max(size - len(head) - 2, 16)
        while n > 0:
            k = min(255, n)
            data += bytes([k]) + self.noise(k)
            n -= k + 1
        return head + bytes(data) + b"\x00\x3b"

    def mp4(self, size):
        def box(t, d):
            return struct.pack(">I", 8 + len(d)) + t + d
        ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
        moov = box(b"moov", box(b"mvhd", b"\x00" * 100) + box(b"trak", self.noise(600)))
        mdat_len = max(size - len(ftyp) - len(moov) - 8, 16)
        return ftyp + moov + box(b"mdat", self.noise(mdat_len))

    def woff2(self, size):
        head = b"wOF2" + struct.pack(">IIHHIHHIIIII", 0x00010000, size, 12, 0, size * 3, 1, 0,
                                     0, 0, 0, 0, 0)
        return head + self.noise(max(size - len(head), 16))

    def pe(self, size, text=None):
        """A PE32 with valid MZ, PE, optional and section headers: .text (code-like noise),
        .rdata (strings), .data."""
        nsec, fa = 3, 0x200
        body = max(size - 0x400, 3 * fa)
        secsz = [(body // 2) // fa * fa or fa, (body // 4) // fa * fa or fa]
        secsz.append(max(body - secsz[0] - secsz[1], fa) // fa * fa or fa)
        dos = b"MZ" + b"\x90\x00" + b"\x00" * 56
        dos = dos[:0x3C] + struct.pack("<I", 0x80) + b"\x00" * (0x80 - 0x40)
        coff = b"PE\x00\x00" + struct.pack("<HHIIIHH", 0x14C, nsec, 0x5F000000, 0, 0, 0xE0, 0x0102)
        opt = struct.pack("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII", 0x10B, 14, 0, secsz[0], secsz[1] + secsz[2], 0,
                          0x1000, 0x1000, 0x1000 + secsz[0] // 0x1000 * 0x1000 + 0x1000, 0x400000,
                          0x1000, fa, 6, 0, 0, 0, 6, 0, 0,
                          0x1000 * (nsec + 1) + sum(secsz), 0x400, 0, 2, 0x8140,
                          0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
        opt += b"\x00" * (16 * 8)
        secs, raw, va = b"", 0x400, 0x1000
        for name, sz, ch in ((b".text\x00\x00\x00", secsz[0], 0x60000020),
                             (b".rdata\x00\x00", secsz[1], 0x40000040),
                             (b".data\x00\x00\x00", secsz[2], 0xC0000040)):
            secs += name + struct.pack("<IIIIIIHHI", sz, va, sz, raw, 0, 0, 0, 0, ch)
            raw += sz
            va += (sz + 0xFFF) // 0x1000 * 0x1000
        hdr = (dos + coff + opt + secs).ljust(0x400, b"\x00")
        code = bytearray()
        while len(code) < secsz[0]:  # push/mov/call/ret-like bytes, not pure noise
            code += bytes([0x55, 0x8B, 0xEC, 0x83, 0xEC, self.r.randint(4, 64)]) + self.noise(self.r.randint(8, 40)) + b"\xC9\xC3"
        strs = (text or self.words(secsz[1] // 5)).encode()[:secsz[1]].ljust(secsz[1], b"\x00")
        return hdr + bytes(code[:secsz[0]]) + strs + self.noise(secsz[2])

    def pdf(self, size):
        text = "BT /F1 12 Tf 72 720 Td (%s) Tj ET\n" % self.words(40)
        content = zlib.compress((text * max(1, size // len(text))).encode(), 6)
        # The compressed text is small: pad with an image XObject of noise (as scanned PDFs are).
        img = self.noise(max(size - len(content) - 900, 64))
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                b"<< /Type /XObject /Subtype /Image /Width 100 /Height 100 /BitsPerComponent 8 "
                b"/ColorSpace /DeviceRGB /Filter /DCTDecode /Length %d >>\nstream\n" % len(img) + img + b"\nendstream"]
        out, offs = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"), []
        for i, o in enumerate(objs, 1):
            offs.append(len(out))
            out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
        x = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        for o in offs:
            out += b"%010d 00000 n \n" % o
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
        return bytes(out)

    def zip(self, size, members=None):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            if members is None:
                members = [("README.txt", self.words(300).encode()),
                           ("logo.png", self.png(max(size // 3, 256))),
                           ("setup.exe", self.pe(max(size // 3, 4096))),
                           ("docs/manual.html", self.html(max(size // 6, 512)))]
            for name, data in members:
                zi = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, data)
        return buf.getvalue()


def sizes_for(r, total, n):
    """n sizes that sum to about total, log-normal around the mean."""
    raw = [math.exp(r.gauss(0, 0.8)) for _ in range(n)]
    k = total / sum(raw)
    return [max(200, int(x * k)) for x in raw]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--total", type=int, default=8 << 20, help="clean bytes in all (default 8 MiB)")
    ap.add_argument("--requests", type=int, default=200, help="clean bodies, about (default 200)")
    ap.add_argument("--no-infected", action="store_true")
    ap.add_argument("dir")
    a = ap.parse_args()
    if a.total < 100000 or a.requests < 24:
        sys.exit("--total must be >= 100000 and --requests >= 24")
    os.makedirs(a.dir, exist_ok=True)
    g = Gen(a.seed)
    items = []  # (name, ctype, data, verdict, kind)
    for kind, share, count, ext, ctype in MIX:
        n = max(1, round(count * a.requests / 200))
        for i, sz in enumerate(sizes_for(g.r, a.total * share / 100, n)):
            items.append(("%s-%03d.%s" % (kind, i, ext), ctype, getattr(g, kind)(sz), "clean", kind))
    if not a.no_infected:
        eicar = bytes.fromhex(EICAR_HEX)
        items.append(("inf-eicar.com", "application/octet-stream", eicar, "infected", "eicar"))
        items.append(("inf-eicar.zip", "application/zip",
                      g.zip(0, [("readme.txt", g.words(50).encode()), ("eicar.com", eicar)]),
                      "infected", "eicar in zip"))
        try:
            with open(os.path.join(TESTFILES, "clam.exe"), "rb") as f:
                clam = f.read()
        except OSError as e:
            sys.exit("%s (install Debian's clamav-testfiles, or pass --no-infected)" % e)
        items.append(("inf-clam.exe", "application/x-msdownload", clam, "infected", "clam.exe"))
        items.append(("inf-clam.zip", "application/zip",
                      g.zip(0, [("tools/readme.txt", g.words(80).encode()), ("tools/clam.exe", clam)]),
                      "infected", "clam.exe in zip"))
        for tf, ctype in (("clam.pdf", "application/pdf"), ("clam.7z", "application/x-7z-compressed")):
            with open(os.path.join(TESTFILES, tf), "rb") as f:
                items.append(("inf-" + tf, ctype, f.read(), "infected", "clamav-testfiles " + tf))
    # Interleave: the list order is the send order (round-robin), so kinds are mixed in time.
    g.r.shuffle(items)
    with open(os.path.join(a.dir, "list.txt"), "w") as lf, \
            open(os.path.join(a.dir, "expect.txt"), "w") as ef:
        lf.write("# bench/gen-webmix.py --seed %d --total %d --requests %d: PATH CONTENT-TYPE URL\n"
                 % (a.seed, a.total, a.requests))
        ef.write("# PATH VERDICT KIND\n")
        for name, ctype, data, verdict, kind in items:
            with open(os.path.join(a.dir, name), "wb") as f:
                f.write(data)
            lf.write("%s %s http://cdn%d.webmix.example/%s\n" % (name, ctype.split(";")[0], len(name) % 7, name))
            ef.write("%s %s %s\n" % (name, verdict, kind.replace(" ", "_")))
    by = {}
    for name, ctype, data, verdict, kind in items:
        k = kind if verdict == "clean" else "infected"
        c, b = by.get(k, (0, 0))
        by[k] = (c + 1, b + len(data))
    tot = sum(b for c, b in by.values())
    with open(os.path.join(a.dir, "mix.md"), "w") as f:
        f.write("| kind | bodies | bytes | share of bytes |\n|---|---|---|---|\n")
        for k, (c, b) in sorted(by.items(), key=lambda kv: -kv[1][1]):
            f.write("| %s | %d | %d | %.1f%% |\n" % (k, c, b, 100.0 * b / tot))
        f.write("| all | %d | %d | 100%% |\n" % (len(items), tot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
