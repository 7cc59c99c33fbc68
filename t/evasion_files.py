#!/usr/bin/env python3
"""t/evasion_files.py - bodies that hide a file from the deep scanner (t/it_deep.sh), built
from Debian's clamav-testfiles with the standard library only.

  evasion_files.py TESTFILES OUTDIR

writes into OUTDIR:
  decoy.gif     GIF header, a decoy zip signature ("PK\\3\\4" and junk), then clam.zip: zip
                readers find the real archive from its end record, past the decoy
  decoy.zip     the same without the image: a "zip" whose first signature is the decoy
  cab.gif       GIF header, junk, then clam.cab (cabextract and 7-Zip find it anywhere)
  fextra.gz     a valid gzip of clean text whose header's extra field holds clam.zip
                (`unzip fextra.gz` extracts clam.exe)
  crypt.zip     clam.exe in a ZipCrypto (traditional PKWARE) encrypted zip, password "infected"
  lzma.zip      clam.exe compressed with LZMA (zip method 14), which libclamav cannot unpack
  z64.zip       clam.zip behind a decoy, ending in a zip64 end record (the classic record's
                numbers 0xffffffff), which libclamav cannot read
  overrun.zip   clam.zip behind a decoy, its end record claiming a 1-byte comment that is not
                there (unzip and Python still open it)
  big.gif       a GIF header, a decoy, then a 2 MiB zip holding clam.exe (the deep scanner
                keeps it in a file, not in memory)
  isodecoy.gif  iso.gif with a decoy zip signature in the system area, before the volume
                descriptor
  cabdecoy.gif  cab.gif with a decoy zip signature before the cabinet
  lzmainzip.zip lzma.zip inside another zip (the member check at every depth)
  lhlie.zip     clam.exe stored, its local header saying 6 bytes where the central directory
                says 544: libclamav reads 6, Python and Java read 544
  mailid3.eml   clam.mail with a first header line "ID3: x" (libclamav took it for an MP3)
  decoys6.gif   a GIF header, six decoy cabinet signatures, then clam.cab
  iso.gif       an ISO 9660 image holding clam.exe whose system area (its first 32 KiB, free
                for any bytes) starts with a GIF header: an image to a type test, a disc to
                Windows and 7-Zip
  xz.zip        clam.exe as an xz member (zip method 95), which libclamav skips
  clam.lz       clam.exe in lzip (and clam.tar.lz a tar of it), which libclamav cannot undo
  ppmd.zip      a PPMd member (method 98): nothing here decodes it (unscanned)
  badlzip.lz    an lzip header with a dictionary of 1 byte: lzip -d refuses it (unscanned)
  clam.exe.Z    clam.exe in Unix compress (.Z; clam.tar.Z a tar of it), which libclamav cannot undo
  (and more: see main())
(A zstd file is made by t/ww_encode: the standard library has no zstd compressor. zstd.zip is
built from it: evasion_files.py --method-zip METHOD NAME PACKED ORIGINAL OUT.)
"""
import bz2
import gzip
import io
import lzma
import os
import struct
import sys
import zipfile
import zlib


def zipcrypto(name, data, password):
    """One stored member, encrypted with the traditional PKWARE cipher (APPNOTE 6.1)."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(crc, b):
        return zlib.crc32(bytes([b]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(b):
        keys[0] = crc_byte(keys[0], b)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    def encrypt(plain):
        out = bytearray()
        for b in plain:
            t = (keys[2] | 2) & 0xFFFF
            out.append(b ^ ((t * (t ^ 1)) >> 8) & 0xFF)
            update(b)
        return bytes(out)

    for b in password:
        update(b)
    crc = zlib.crc32(data)
    # 12-byte encryption header: its last byte is the CRC's high byte (the password check)
    sealed = encrypt(bytes(11) + bytes([crc >> 24])) + encrypt(data)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, 0, 0, crc, len(sealed), len(data),
                        len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 0, 0, 0, crc, len(sealed),
                          len(data), len(name), 0, 0, 0, 0, 0, 0) + name
    body = local + sealed
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def iso9660(name, data, system_area, multi=False, unit=0, vrs=False):
    """A one-file ISO 9660 image (ECMA-119): system area, primary volume descriptor at sector
    16, terminator, the two path tables, the root directory, the file. <multi>: the file in two
    extents (the first record flagged 0x80), as a file over 4 GiB is written; <unit>: the
    record's interleave unit size (libclamav skips such a file, 7-Zip reads the extent);
    <vrs>: a UDF volume recognition sequence after the terminator (a UDF bridge's)."""
    sector = 2048
    both16 = lambda v: struct.pack("<H", v) + struct.pack(">H", v)
    both32 = lambda v: struct.pack("<I", v) + struct.pack(">I", v)

    def record(extent, size, ident, is_dir, flags=0):
        n = 33 + len(ident) + (len(ident) + 1) % 2  # padded to an even length
        r = (bytes([n, 0]) + both32(extent) + both32(size) + bytes(7) +
             bytes([(2 if is_dir else 0) | flags, unit if not is_dir else 0, 0]) + both16(1) +
             bytes([len(ident)]) + ident)
        return r + bytes(n - len(r))

    k = 3 if vrs else 0
    root_at, file_at = 20 + k, 21 + k
    pad = lambda b: b + bytes(sector - len(b) % sector if len(b) % sector else 0)
    if multi:
        h = len(data) // 2
        second_at = file_at + (h + sector - 1) // sector
        body = pad(data[:h]) + pad(data[h:])
        files = (record(file_at, h, name + b";1", False, 0x80) +
                 record(second_at, len(data) - h, name + b";1", False))
    else:
        body = pad(data)
        files = record(file_at, len(data), name + b";1", False)
    total = file_at + len(body) // sector
    root = record(root_at, sector, b"\0", True) + record(root_at, sector, b"\1", True) + files
    path_l = bytes([1, 0]) + struct.pack("<I", root_at) + struct.pack("<H", 1) + b"\0\0"
    path_m = bytes([1, 0]) + struct.pack(">I", root_at) + struct.pack(">H", 1) + b"\0\0"
    pvd = (b"\1CD001\1\0" + b" " * 32 + b"WEBWARDEN_TEST".ljust(32) + bytes(8) + both32(total) +
           bytes(32) + both16(1) + both16(1) + both16(sector) + both32(len(path_l)) +
           struct.pack("<I", 18 + k) + struct.pack("<I", 0) + struct.pack(">I", 19 + k) +
           struct.pack(">I", 0) + record(root_at, sector, b"\0", True))
    image = system_area.ljust(16 * sector, b"\0")
    image += pad(pvd.ljust(881, b" ") + b"\1")  # version 1 at byte 881
    image += pad(b"\xffCD001\1")
    if vrs:
        image += b"".join(pad(b"\0" + ident + b"\1") for ident in (b"BEA01", b"NSR02", b"TEA01"))
    image += pad(path_l) + pad(path_m) + pad(root) + body
    assert len(image) == total * sector
    return image


def udf(name, data):
    """A one-file UDF 2.01 image (ECMA-167): the recognition sequence at sector 16, the anchor at
    256, the partition and logical volume descriptors at 32 (the partition first: not the order
    genisoimage writes, which libclamav 1.4's reader wants), the partition from 257: the file
    set, the root's File Entry and identifiers, the file's entry and data. 7-Zip and Windows
    read it."""
    S, P = 2048, 257
    img = bytearray(S * (P + 5 + (len(data) + S - 1) // S))

    def crc16(b):  # CRC-ITU-T, as ECMA-167 7.2.6 (7-Zip checks it)
        c = 0
        for x in b:
            c ^= x << 8
            for _ in range(8):
                c = ((c << 1) ^ 0x1021) & 0xffff if c & 0x8000 else (c << 1) & 0xffff
        return c

    def tag(off, tid, loc, body=496):
        struct.pack_into("<HHxxHHHI", img, off, tid, 2, 1, crc16(img[off + 16:off + 16 + body]),
                         body, loc)
        img[off + 4] = sum(img[off + i] for i in range(16) if i != 4) & 0xff

    def regid(off, ident, suffix=b""):
        img[off:off + 32] = (b"\0" + ident.ljust(23, b"\0") + suffix.ljust(8, b"\0"))[:32]

    def fid(chars, nm, lb):
        nl = len(nm) + 1 if nm else 0
        b = bytearray((38 + nl + 3) & ~3)
        b[18], b[19] = chars, nl
        struct.pack_into("<IIH", b, 20, S, lb, 0)
        if nl:
            b[38:39 + len(nm)] = b"\x08" + nm
        struct.pack_into("<HHxxHHHI", b, 0, 257, 2, 1, crc16(b[16:]), len(b) - 16, 0)
        b[4] = sum(b[i] for i in range(16) if i != 4) & 0xff
        return bytes(b)

    def fe(lb, typ, size, ad):
        o = (P + lb) * S
        struct.pack_into("<IHHHBB", img, o + 16, 0, 4, 0, 1, 0, typ)  # the ICB tag: strategy 4
        struct.pack_into("<IIIH", img, o + 36, 0xffffffff, 0xffffffff, 0x1ce7, 1)  # uid, gid, perms
        struct.pack_into("<QQ", img, o + 56, size, (size + S - 1) // S)
        regid(o + 128, b"*webwarden")
        struct.pack_into("<II", img, o + 168, 0, len(ad))
        img[o + 176:o + 176 + len(ad)] = ad
        tag(o, 261, lb, 160 + len(ad))

    for k, ident in enumerate((b"BEA01", b"NSR02", b"TEA01")):
        img[(16 + k) * S:(16 + k) * S + 7] = b"\0" + ident + b"\1"
    o = 32 * S  # the partition: number 0 from sector P
    struct.pack_into("<IHH", img, o + 16, 1, 1, 0)
    regid(o + 24, b"+NSR02")
    struct.pack_into("<III", img, o + 184, 1, P, len(img) // S - P)
    tag(o, 5, 32)
    o = 33 * S  # the logical volume: 2048-byte blocks, the file set at block 0, one type 1 map
    struct.pack_into("<I", img, o + 16, 2)
    struct.pack_into("<I", img, o + 212, S)
    regid(o + 216, b"*OSTA UDF Compliant", b"\x01\x02")
    struct.pack_into("<IIH", img, o + 248, S, 0, 0)
    struct.pack_into("<II", img, o + 264, 6, 1)
    img[o + 440:o + 446] = b"\x01\x06\x01\x00\x00\x00"
    tag(o, 6, 33, 430)
    tag(34 * S, 8, 34)
    struct.pack_into("<II", img, 256 * S + 16, 3 * S, 32)
    tag(256 * S, 2, 256)
    struct.pack_into("<HHIIII", img, P * S + 28, 3, 3, 1, 1, 0, 0)
    struct.pack_into("<II", img, P * S + 400, S, 1)
    regid(P * S + 416, b"*OSTA UDF Compliant", b"\x01\x02")
    tag(P * S, 256, 0)
    fids = fid(0x0a, b"", 1) + fid(0, name, 3)
    img[(P + 2) * S:(P + 2) * S + len(fids)] = fids
    fe(1, 4, len(fids), struct.pack("<II", len(fids), 2))
    fe(3, 5, len(data), struct.pack("<II", len(data), 4))
    img[(P + 4) * S:(P + 4) * S + len(data)] = data
    return bytes(img)


def vhd_dynamic(disk, block=2 << 20):
    """A dynamic VHD of <disk> (Windows mounts it with a double click; 7-Zip opens it): the
    footer's copy, the dynamic header, the block allocation table, each block its sector bitmap
    and data (all-zero blocks not allocated), the footer."""
    size = (len(disk) + block - 1) // block * block
    disk = disk.ljust(size, b"\0")
    n = size // block

    def checksum(b):
        return (~sum(b) & 0xffffffff)

    footer = bytearray(512)
    footer[0:8] = b"conectix"
    struct.pack_into(">IIQIIIIQQIII", footer, 8, 2, 0x10000, 512, 0, 0x77777777, 0x10000, 0x5769326b,
                     size, size, (1024 << 16) | (16 << 8) | 63, 3, 0)
    struct.pack_into(">I", footer, 64, checksum(footer))
    dyn = bytearray(1024)
    dyn[0:8] = b"cxsparse"
    struct.pack_into(">QQIII", dyn, 8, 0xffffffffffffffff, 1536, 0x10000, n, block)
    struct.pack_into(">I", dyn, 36, checksum(dyn))
    bat_len = (4 * n + 511) // 512 * 512
    at = (1536 + bat_len) // 512  # the first block's sector
    bat, blocks = bytearray(b"\xff" * bat_len), b""
    for i in range(n):
        data = disk[i * block:(i + 1) * block]
        if data.count(0) == len(data):
            continue
        struct.pack_into(">I", bat, 4 * i, at)
        blocks += b"\xff" * 512 + data  # the sector bitmap: all sectors present
        at += (512 + block) // 512
    return bytes(footer) + bytes(dyn) + bytes(bat) + blocks + bytes(footer)


def vhdx(disk):
    """A VHDX of <disk> (Windows 8 and later mount it with a double click; 7-Zip opens it): the
    file identifier, two headers, the region table and its copy, a 1 MiB log, the metadata
    (1 MiB blocks, 512-byte sectors), the block allocation table, the blocks. CRC-32C where the
    format has them."""
    M = 1 << 20
    size = (len(disk) + 511) // 512 * 512
    nb = (size + M - 1) // M
    img = bytearray(4 * M + nb * M)

    def crc32c(b):
        c = 0xffffffff
        for x in b:
            c ^= x
            for _ in range(8):
                c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
        return c ^ 0xffffffff

    def guid(a, b2, c, d):
        return struct.pack("<IHH", a, b2, c) + bytes.fromhex(d)

    img[0:8] = b"vhdxfile"
    for k in (1, 2):
        o = 65536 * k
        img[o:o + 4] = b"head"
        struct.pack_into("<Q", img, o + 8, k)
        img[o + 16:o + 32] = guid(0x11111111, 1, 1, "0101010101010101")
        img[o + 32:o + 48] = guid(0x22222222, 2, 2, "0202020202020202")
        struct.pack_into("<HHIQ", img, o + 64, 0, 1, M, M)
        struct.pack_into("<I", img, o + 4, crc32c(img[o:o + 4096]))
    for o in (196608, 262144):
        img[o:o + 4] = b"regi"
        struct.pack_into("<I", img, o + 8, 2)
        img[o + 16:o + 32] = guid(0x2dc27766, 0xf623, 0x4200, "9d64115e9bfd4a08")
        struct.pack_into("<QII", img, o + 32, 3 * M, M, 1)
        img[o + 48:o + 64] = guid(0x8b7ca206, 0x4790, 0x4b9a, "b8fe575f050f886e")
        struct.pack_into("<QII", img, o + 64, 2 * M, M, 1)
        struct.pack_into("<I", img, o + 4, crc32c(img[o:o + 65536]))
    o = 2 * M
    img[o:o + 8] = b"metadata"
    items = [(guid(0xcaa16737, 0xfa36, 0x4d43, "b3b633f0aa44e76b"), struct.pack("<II", M, 0), 4),
             (guid(0x2fa54224, 0xcd1b, 0x4876, "b2115dbed83bf4b8"), struct.pack("<Q", size), 6),
             (guid(0xbeca12ab, 0xb2e6, 0x4523, "93efc309e000c746"), bytes(range(16)), 6),
             (guid(0x8141bf1d, 0xa96f, 0x4709, "ba47f233a8faab5f"), struct.pack("<I", 512), 6),
             (guid(0xcda348c7, 0x445d, 0x4471, "9cc9e9885251c556"), struct.pack("<I", 512), 6)]
    struct.pack_into("<H", img, o + 10, len(items))
    at = 65536
    for i, (g, data, flags) in enumerate(items):
        e = o + 32 + 32 * i
        img[e:e + 16] = g
        struct.pack_into("<III", img, e + 16, at, len(data), flags)
        img[o + at:o + at + len(data)] = data
        at += 4096
    for i in range(nb):
        struct.pack_into("<Q", img, 3 * M + 8 * i, ((4 + i) << 20) | 6)
        img[(4 + i) * M:(4 + i) * M + len(disk[i * M:(i + 1) * M])] = disk[i * M:(i + 1) * M]
    return bytes(img)


def rpm(payload):
    """An RPM package (as rpmbuild lays it out): the 96-byte lead, a signature header padded to
    8 bytes, the header, then the payload (a cpio, compressed), which rpm -i, rpm2cpio and
    libarchive read. The headers hold one tag each, enough for the readers here."""
    def header(tag_data):
        store = tag_data
        index = struct.pack(">IIII", 1000, 7, 0, len(store))  # one BIN tag
        return b"\x8e\xad\xe8\x01" + bytes(4) + struct.pack(">II", 1, len(store)) + index + store
    lead = (b"\xed\xab\xee\xdb\x03\x00" + struct.pack(">HH", 0, 1) + b"clam-1.0".ljust(66, b"\0") +
            struct.pack(">HH", 1, 5) + bytes(16))
    sig = header(b"sig!x")
    sig += bytes((8 - len(sig) % 8) % 8)
    return lead + sig + header(b"hdr") + payload


def newc(members):
    """A cpio archive in the "newc" format (cpio -H newc, rpm's payload)."""
    out = b""
    for i, (name, data, mode) in enumerate(members + [(b"TRAILER!!!", b"", 0)]):
        nm = name + b"\0"
        h = b"070701" + b"".join(b"%08X" % v for v in (
            i + 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nm), 0))
        out += h + nm + bytes((4 - (len(h) + len(nm)) % 4) % 4)
        out += data + bytes((4 - len(data) % 4) % 4)
    return out


def bincpio(members, nlink=1):
    """A cpio archive in the old binary format (cpio -H bin), little-endian."""
    out = b""
    for i, (name, data, mode) in enumerate(members + [(b"TRAILER!!!", b"", 0)]):
        nm = name + b"\0"
        out += struct.pack("<13H", 0o70707, 0, i + 1, mode, 0, 0, nlink, 0, 0, 0, len(nm),
                           len(data) >> 16, len(data) & 0xffff)
        out += nm + bytes(len(nm) % 2) + data + bytes(len(data) % 2)
    return out


def nsis_data(exe):
    """An NSIS installer's data without its stub: from its first header (4 bytes of flags before
    the magic) on."""
    return exe[exe.index(b"\xef\xbe\xad\xdeNullsoftInst") - 4:]


def lzma_zip(name, data):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_LZMA) as z:
        z.writestr(name, data)
    return out.getvalue()


def method_zip(name, data, method, packed, flags=0):
    """One member packed with zip method <method> (<packed>, as written), its local header and
    central directory entry agreeing, as 7-Zip and WinZip write xz (95) and zstd (93) members."""
    crc = zlib.crc32(data)
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 63, flags, method, 0, 0x21, crc, len(packed),
                        len(data), len(name), 0) + name + packed
    cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 63, 63, flags, method, 0, 0x21, crc,
                     len(packed), len(data), len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(cd), len(local), 0)
    return local + cd + end


def lzip(data):
    """An lzip member, as lzip writes it: "LZIP", version 1, a 1 MiB dictionary, a raw LZMA
    stream (lc 3, lp 0, pb 2) with its end marker, the CRC-32 and both sizes."""
    raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[
        {"id": lzma.FILTER_LZMA1, "dict_size": 1 << 20, "lc": 3, "lp": 0, "pb": 2}])
    return (b"LZIP\x01\x14" + raw + struct.pack("<IQQ", zlib.crc32(data), len(data),
                                                   6 + len(raw) + 20))


def compress_z(data, maxbits=16):
    """Unix compress (.Z) in block mode, as ncompress writes it: LZW codes of 9 to <maxbits>
    bits, least significant bit first, in groups of as many bytes as a code has bits, a group
    padded out when the width grows (gzip -d and uncompress read it)."""
    out = bytearray([0x1F, 0x9D, maxbits | 0x80])
    n_bits, maxcode, maxmax, free_ent = 9, (1 << 9) - 1, 1 << maxbits, 257
    table, stream = {}, []

    def emit(code):
        nonlocal n_bits, maxcode
        stream.append((code, n_bits))
        if free_ent > maxcode:
            stream.append((None, n_bits))  # the group padded out, then wider codes
            n_bits += 1
            maxcode = maxmax if n_bits == maxbits else (1 << n_bits) - 1

    if data:
        ent = data[0]
        for c in data[1:]:
            if (ent, c) in table:
                ent = table[(ent, c)]
                continue
            emit(ent)
            if free_ent < maxmax:
                table[(ent, c)] = free_ent
                free_ent += 1
            ent = c
        emit(ent)
    bits, pos, epoch = bytearray(), 0, 0
    for code, width in stream:
        if code is None:
            g = width * 8
            pos = epoch + -(-(pos - epoch) // g) * g
            epoch = pos
            continue
        for i in range(width):
            if (code >> i) & 1:
                bits.extend(bytes(max(0, (pos >> 3) + 1 - len(bits))))
                bits[pos >> 3] |= 1 << (pos & 7)
            pos += 1
    bits.extend(bytes(max(0, ((pos + 7) >> 3) - len(bits))))
    return bytes(out + bits[:(pos + 7) >> 3])


def pack_z(data):
    """pack (.z, 1f 1e), as System V's pack(1) wrote it and gzip -d reads it: the length, then a
    Huffman tree given as the count of leaves of each length (the last less 2) and the bytes
    (the end code last at the longest length, not sent), then the codes, most significant bit
    first. At each length the parents take the lowest codes, the leaves the next ones."""
    import heapq
    freq = {}
    for c in data:
        freq[c] = freq.get(c, 0) + 1
    syms = [(n, i, [c]) for i, (c, n) in enumerate(sorted(freq.items()))]
    syms.append((1, len(syms), ["EOB"]))  # the end code, the rarest: longest
    heapq.heapify(syms)
    depth = {s[2][0]: 0 for s in syms}
    tie = len(syms)
    while len(syms) > 1:
        a, b = heapq.heappop(syms), heapq.heappop(syms)
        for x in a[2] + b[2]:
            depth[x] += 1
        heapq.heappush(syms, (a[0] + b[0], tie, a[2] + b[2]))
        tie += 1
    max_len = max(depth.values())
    if depth["EOB"] != max_len:  # the end code must be the last of the longest codes
        other = next(c for c in depth if c != "EOB" and depth[c] == max_len)
        depth[other], depth["EOB"] = depth["EOB"], max_len
    assert max_len <= 24, "pack: a code over 24 bits"
    by_len = {L: sorted(c for c in depth if c != "EOB" and depth[c] == L) for L in range(1, max_len + 1)}
    leaves = {L: len(by_len[L]) for L in by_len}
    leaves[max_len] += 1  # with the end code
    parents, nodes = {}, 0
    for L in range(max_len, 0, -1):
        nodes >>= 1
        parents[L] = nodes
        nodes += leaves[L]
    code = {}
    for L in range(1, max_len + 1):
        for k, c in enumerate(by_len[L] + (["EOB"] if L == max_len else [])):
            code[c] = (parents[L] + k, L)
    out = bytearray(b"\x1f\x1e" + struct.pack(">I", len(data) & 0xFFFFFFFF) + bytes([max_len]))
    out += bytes(leaves[L] - (2 if L == max_len else 0) for L in range(1, max_len + 1))
    for L in range(1, max_len + 1):
        out += bytes(by_len[L])
    acc, nbits, bits = 0, 0, bytearray()
    for c in list(data) + ["EOB"]:
        v, L = code[c]
        acc, nbits = (acc << L) | v, nbits + L
        while nbits >= 8:
            nbits -= 8
            bits.append((acc >> nbits) & 0xFF)
        acc &= (1 << nbits) - 1
    if nbits:
        bits.append((acc << (8 - nbits)) & 0xFF)
    return bytes(out + bits)


def lh5(data):
    """LHA's -lh5- coding of <data> with one simple table: the code-length table a single
    symbol (a length of 8) for all 256 literals, so each byte's code is the byte itself; blocks
    of 65,535 codes. 7-Zip, WinRAR and libarchive decode it."""
    acc, nbits, out = 0, 0, bytearray()

    def put(v, w):
        nonlocal acc, nbits
        acc, nbits = (acc << w) | (v & ((1 << w) - 1)), nbits + w
        while nbits >= 8:
            nbits -= 8
            out.append((acc >> nbits) & 0xFF)
        acc &= (1 << nbits) - 1

    for i in range(0, len(data), 65535):
        blk = data[i:i + 65535]
        put(len(blk), 16)
        put(0, 5), put(10, 5)  # the length table's table: one symbol, 10 (a length of 8)
        put(256, 9)  # 256 literal lengths, each that symbol (no bits)
        put(0, 4), put(0, 4)  # the position table: one symbol, unused
        for c in blk:
            put(c, 8)
    if nbits:
        out.append((acc << (8 - nbits)) & 0xFF)
    return bytes(out)


def lha0(name, data, method=b"-lh0-"):
    """An LHA archive (level-0 header) of one entry, stored (-lh0-) or -lh5- coded, then the end
    byte: 7-Zip, WinRAR and libarchive read it."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    packed = lh5(data) if method == b"-lh5-" else data
    h = (method + struct.pack("<IIIBB", len(packed), len(data), 0x5A000000, 0x20, 0) +
         bytes([len(name)]) + name + struct.pack("<H", crc))
    return bytes([len(h), sum(h) & 0xFF]) + h + packed + b"\0"


def fat12(files):
    """A FAT12 volume (64 KiB, 512-byte clusters) with <files>: (path, data) pairs, a path of one
    directory at most ("SUB/CLAM.EXE"), 8.3 names in capitals. Windows mounts it (as an .img),
    7-Zip opens it."""
    bps, total, rootent, rsvd, nfats, fatsz = 512, 128, 16, 1, 2, 1
    data_at = (rsvd + nfats * fatsz + rootent * 32 // bps) * bps
    img = bytearray(total * bps)
    img[0:3] = b"\xEB\x3C\x90"
    img[3:11] = b"MSWIN4.1"
    struct.pack_into("<HBHBHHBHHHII", img, 11, bps, 1, rsvd, nfats, rootent, total, 0xF0, fatsz,
                     18, 2, 0, 0)
    img[38] = 0x29
    img[43:54] = b"NO NAME    "
    img[54:62] = b"FAT12   "
    img[510:512] = b"\x55\xAA"
    fat = {0: 0xFF0, 1: 0xFFF}
    nxt = [2]

    def alloc(data):
        n = max(1, -(-len(data) // bps))
        first = nxt[0]
        for i in range(n):
            c = first + i
            fat[c] = c + 1 if i < n - 1 else 0xFFF
            img[data_at + (c - 2) * bps:data_at + (c - 2) * bps + len(data[i * bps:(i + 1) * bps])] = \
                data[i * bps:(i + 1) * bps]
        nxt[0] += n
        return first

    def entry(name, attr, clus, size):
        base, _, ext = name.partition(".") if name.strip(".") else (name, "", "")
        return (base.ljust(8).encode() + ext.ljust(3).encode() + bytes([attr]) + bytes(14) +
                struct.pack("<HI", clus, size))

    root, subs = [], {}
    for path, data in files:
        if "/" in path:
            d, name = path.split("/")
            subs.setdefault(d, []).append((name, data))
        else:
            root.append(entry(path, 0x20, alloc(data), len(data)))
    for d, members in subs.items():
        clus = nxt[0]
        nxt[0] += 1
        fat[clus] = 0xFFF
        ents = entry(".", 0x10, clus, 0) + entry("..", 0x10, 0, 0)
        for name, data in members:
            ents += entry(name, 0x20, alloc(data), len(data))
        img[data_at + (clus - 2) * bps:data_at + (clus - 2) * bps + len(ents)] = ents
        root.append(entry(d, 0x10, clus, 0))
    r = b"".join(root)
    img[(rsvd + nfats * fatsz) * bps:(rsvd + nfats * fatsz) * bps + len(r)] = r
    for k in range(nfats):
        at = (rsvd + k * fatsz) * bps
        for c in range(0, max(fat) + 2, 2):
            v = fat.get(c, 0) | (fat.get(c + 1, 0) << 12)
            img[at + c * 3 // 2:at + c * 3 // 2 + 3] = struct.pack("<I", v)[:3]
    return bytes(img)


def mbr_disk(volume, ptype=0x01):
    """A disk of one primary partition (from sector 1) holding <volume>, as a .img or the data of
    a fixed .vhd."""
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\0\1\0", ptype, b"\0\0\0", 1,
                               len(volume) // 512)
    mbr[510:512] = b"\x55\xAA"
    return bytes(mbr) + volume


def raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def zip64_end(z):
    """Zip <z> (no comment) ending in a zip64 end record and locator, then a classic record
    that defers to them."""
    entries, cd_size, cd_off = struct.unpack("<HII", z[-12:-2])
    body = z[:-22]
    rec = (b"PK\x06\x06" + struct.pack("<QHHII", 44, 45, 45, 0, 0) +
           struct.pack("<QQQQ", entries, entries, cd_size, cd_off))
    loc = b"PK\x06\x07" + struct.pack("<IQI", 0, len(body), 1)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF,
                                       0)
    return body + rec + loc + end


def zip_of(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def local_size_lie(z):
    """The first member's local header says 6 bytes (compressed and not); its central
    directory entry keeps the truth."""
    return z[:18] + struct.pack("<II", 6, 6) + z[26:]


def gzip_fextra(extra, text):
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = comp.compress(text) + comp.flush()
    return (b"\x1f\x8b\x08\x04\0\0\0\0\0\xff" + struct.pack("<H", len(extra)) + extra + packed +
            struct.pack("<II", zlib.crc32(text), len(text)))


def local_only(name, data, method=zipfile.ZIP_DEFLATED, descriptor=False):
    """One member's local header and data (and data descriptor), with no central directory entry
    of its own: what Java's ZipInputStream extracts and a central-directory reader never lists."""
    if method == zipfile.ZIP_DEFLATED:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = comp.compress(data) + comp.flush()
    else:
        packed = data
    crc = zlib.crc32(data)
    if descriptor:  # flag 3: sizes and CRC after the data, as jar and streaming writers do
        head = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 8, method, 0, 0, 0, 0, 0, len(name), 0)
        return head + name + packed + struct.pack("<IIII", 0x08074b50, crc, len(packed), len(data))
    head = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, method, 0, 0, crc, len(packed), len(data),
                       len(name), 0)
    return head + name + packed


def members_only(z):
    """Zip <z>'s local headers and data: what comes before its central directory."""
    e = z.rfind(b"PK\x05\x06")
    return z[:struct.unpack("<I", z[e + 16:e + 20])[0]]


def hidden_member(clean_zip, hidden):
    """<hidden> (local headers only) put before the members of <clean_zip>, whose central
    directory and end record are moved along so that directory readers still find the clean
    members only."""
    e = clean_zip.rfind(b"PK\x05\x06")
    cd_size, cd_off = struct.unpack("<II", clean_zip[e + 12:e + 20])
    cd = bytearray(clean_zip[cd_off:cd_off + cd_size])
    at = 0
    while at + 46 <= len(cd) and cd[at:at + 4] == b"PK\x01\x02":
        off = struct.unpack("<I", cd[at + 42:at + 46])[0]
        cd[at + 42:at + 46] = struct.pack("<I", off + len(hidden))
        n, x, c = struct.unpack("<HHH", cd[at + 28:at + 34])
        at += 46 + n + x + c
    end = bytearray(clean_zip[e:])
    end[16:20] = struct.pack("<I", cd_off + len(hidden))
    return hidden + clean_zip[:cd_off] + bytes(cd) + bytes(end)


def tar_header(name, size, typ=b"0", magic=b"ustar\x0000"):
    """One tar header (<magic> None: V7, none), its checksum as GNU tar writes it."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[124:136] = b"%011o\0" % size
    h[156:157] = typ
    if magic is not None:
        h[257:257 + len(magic)] = magic
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def tar_of(members, magic=b"ustar\x0000"):
    """A tar archive (<magic> None: V7, no magic in any header); GNU tar and bsdtar extract it."""
    return b"".join(tar_header(name, len(data), magic=magic) + data + b"\0" * ((-len(data)) % 512)
                    for name, data in members) + b"\0" * 1024


def lh(name, flags, method, crc, cs, us, extra=b""):
    return struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, flags, method, 0, 0, crc, cs, us, len(name),
                       len(extra)) + name + extra


def cde(name, flags, method, crc, cs, us, off):
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, flags, method, 0, 0, crc, cs, us,
                       len(name), 0, 0, 0, 0, 0, off) + name


def eocd(n, cdlen, cdoff):
    return struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, cdlen, cdoff, 0)


def defl(d):
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    return co.compress(d) + co.flush()


def descriptor(d, c):
    return struct.pack("<IIII", 0x08074b50, zlib.crc32(d), len(c), len(d))


def member(name, d, method=8):
    c = defl(d) if method == 8 else d
    return lh(name, 0, method, zlib.crc32(d), len(c), len(d)) + c


def stream_lies(clam_exe, kind):
    """Zips whose members ZipInputStream reads otherwise than libclamav (attack review 5):
    'ddsize': a member with a data descriptor whose local compressed size runs over clam.exe's
    member (Java inflates to the stream's end and reads clam.exe next); 'cdzero': clam.exe with a
    data descriptor, listed with compressed size 0 (libclamav takes the directory's); 'z64half':
    a local header with zip64 usize only, its plain csize running over clam.exe (Java takes both
    sizes from the zip64 field); 'stored': a stored member whose csize runs over clam.exe (Java
    reads a stored member's usize)."""
    text = b"hello clean\n" * 20
    ct = defl(text)
    b = member(b"clam.exe", clam_exe)
    if kind == "ddsize":
        a = lh(b"readme.txt", 8, 8, 0, len(ct) + 16 + len(b), len(text)) + ct + descriptor(text, ct)
        body = a + b
        c = member(b"notes.txt", b"notes\n", 0)
        cd = cde(b"notes.txt", 0, 0, zlib.crc32(b"notes\n"), 6, 6, len(body))
        return body + c + cd + eocd(1, len(cd), len(body) + len(c))
    if kind == "cdzero":
        r = member(b"readme.txt", text, 0)
        c = defl(clam_exe)
        out = r + lh(b"clam.exe", 8, 8, 0, 0, 0) + c + descriptor(clam_exe, c)
        cd = (cde(b"readme.txt", 0, 0, zlib.crc32(text), len(text), len(text), 0) +
              cde(b"clam.exe", 8, 8, 0, 0, 0, len(r)))
        return out + cd + eocd(2, len(cd), len(out))
    if kind == "z64half":
        ext = struct.pack("<HHQQ", 1, 16, len(text), len(ct))
        a = lh(b"readme.txt", 0, 8, zlib.crc32(text), len(ct) + len(b), 0xffffffff, ext) + ct
        cd = cde(b"readme.txt", 0, 8, zlib.crc32(text), len(ct), len(text), 0)
        return a + b + cd + eocd(1, len(cd), len(a) + len(b))
    a = lh(b"readme.txt", 0, 0, zlib.crc32(text), len(text) + len(b), len(text)) + text
    cd = cde(b"readme.txt", 0, 0, zlib.crc32(text), len(text) + len(b), len(text), 0)
    return a + b + cd + eocd(1, len(cd), len(a) + len(b))


class _Pipe(io.RawIOBase):
    """A file zipfile cannot seek in: it writes data descriptors, as zip writing to a pipe does."""

    def __init__(self):
        self.b = bytearray()

    def writable(self):
        return True

    def write(self, d):
        self.b += d
        return len(d)


def streamed_bundle(n):
    """A zip written to a pipe (every member with a data descriptor) that stores a zip of <n>
    members: legitimate, and clean."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            z.writestr("photo%05d.txt" % i, b"photo %d\n" % i)
    out = _Pipe()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("photos.zip", inner.getvalue())
        z.writestr("README", b"read me\n")
    return bytes(out.b)


def pax_size_tar(clam_exe):
    """clam.exe whose header says 0 bytes and a pax record before it says 544: GNU tar and
    Python read 544, libclamav's tar reader the header's 0 (attack review 6)."""
    pad = lambda d: d + b"\0" * (-len(d) % 512)
    text = b"hello clean\n"
    rec = b"12 size=%d\n" % len(clam_exe)
    return (tar_header(b"readme.txt", len(text)) + pad(text) +
            tar_header(b"PaxHeaders/clam.exe", len(rec), b"x") + pad(rec) +
            tar_header(b"clam.exe", 0) + pad(clam_exe) + b"\0" * 1024)


def tar_trick(clam_exe, trick):
    """clam.exe in a tar whose headers libclamav's tar reader read otherwise than GNU tar
    (round 10); tar xf gives clam.exe back from each (<trick> "symlink": tar xf FILE clam.exe)."""
    pad = lambda d: d + b"\0" * (-len(d) % 512)
    text = b"hello clean\n"
    first = tar_header(b"readme.txt", len(text)) + pad(text)
    clam = tar_header(b"clam.exe", len(clam_exe)) + pad(clam_exe)
    end = b"\0" * 1024

    def resum(h):
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        return bytes(h)

    if trick == "typeA":  # a Solaris ACL entry: GNU tar extracts it as a file, libclamav skips it
        return first + tar_header(b"clam.exe", len(clam_exe), b"A") + pad(clam_exe) + end
    if trick in ("volume", "symlink"):
        # a volume label (a symbolic link) with a size: GNU tar skips its data (when it lists or
        # picks members), libclamav reads it as a header: a decoy whose data is clam.exe's header
        typ = b"V" if trick == "volume" else b"2"
        return first + tar_header(b"label", 512, typ) + tar_header(b"decoy.txt", 512) + clam + end
    if trick == "v7inustar":  # a header without "ustar" ends libclamav's reading of a ustar tar
        return first + tar_header(b"clam.exe", len(clam_exe), magic=None) + pad(clam_exe) + end
    if trick == "nameless":  # a header with no name ends libclamav's reading
        return first + tar_header(b"", 4) + pad(b"data") + clam + end
    if trick == "sumnul":  # a checksum after a NUL: GNU tar reads it, libclamav's sscanf does not
        h = bytearray(tar_header(b"clam.exe", len(clam_exe)))
        h[148:156] = b" " * 8
        h[148:156] = b"\0%06o " % sum(h)
        return first + bytes(h) + pad(clam_exe) + end
    if trick == "base256":  # a size in base-256, as GNU tar writes sizes over 8 GiB
        h = bytearray(tar_header(b"clam.exe", len(clam_exe)))
        h[124:136] = b"\x80" + b"\0" * 7 + len(clam_exe).to_bytes(4, "big")
        return first + resum(h) + pad(clam_exe) + end
    if trick == "b64sum":  # a decoy whose checksum is base-64 (GNU tar skips it: octal only)
        # over clam.exe's header, after a header without "ustar" (attack review 8)
        h = bytearray(tar_header(b"decoy.txt", 1024))
        h[148:156] = b" " * 8
        s, b64 = sum(h), b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        h[148:156] = b"+" + bytes(b64[(s >> (6 * (5 - i))) & 63] for i in range(6)) + b"\0"
        return (first + tar_header(b"a.txt", 4, magic=None) + pad(b"text") + bytes(h) +
                pad(b"junk") + clam + end)
    if trick == "paxtab":  # a pax record GNU tar reads (a tab after the length), Python does not:
        # unscanned (attack review 8)
        rec = b"12\tsize=%d\n" % len(clam_exe)
        return (first + tar_header(b"PaxHeaders/clam.exe", len(rec), b"x") + pad(rec) +
                tar_header(b"clam.exe", 0) + pad(clam_exe) + end)
    if trick == "slashdir":  # a regular file named "d/" whose data is clam.exe's header: GNU
        # tar extracts it as a directory, with no data (attack review 9)
        return first + tar_header(b"d/", 512, b"\0") + clam + end
    if trick == "paxpad":  # a size record in a pax header's padding: Python reads it, GNU tar
        # does not: unscanned (attack review 9)
        rec = b"12 path=a.c\n"
        return (first + tar_header(b"PaxHeaders/clam.exe", len(rec), b"x") + rec +
                (b"12 size=%d\n" % len(clam_exe)).ljust(512 - len(rec), b"\0") +
                tar_header(b"clam.exe", 0) + pad(clam_exe) + end)
    if trick == "paxsparse":  # a pax sparse member: unscanned (no rewrite reads it as GNU tar)
        rec = b"22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n"
        return (first + tar_header(b"PaxHeaders/notes.txt", len(rec), b"x") + pad(rec) +
                tar_header(b"notes.txt", len(text)) + pad(text) + end)
    raise ValueError(trick)


def zstd_v07(data):
    """A legacy zstd frame (v0.7; zstd -d reads it), raw blocks of 64 bytes."""
    out = b"\x27\xb5\x2f\xfd\x00" + bytes([(17 - 10) << 3])
    for i in range(0, len(data), 64):
        c = data[i:i + 64]
        out += bytes([0x40, 0, len(c)]) + c
    return out + b"\xc0\x00\x00"


def ar_of(members):
    """An ar archive (a .deb's layout); dpkg-deb and ar x read it."""
    out = b"!<arch>\n"
    for name, d in members:
        out += b"%-16s%-12s%-6s%-6s%-8s%-10d`\n" % (name, b"0", b"0", b"0", b"100644", len(d)) + d
        out += b"\n" if len(d) % 2 else b""
    return out


def tar_checksum(body):
    """<body> with its first 512 bytes made a tar header by their checksum (8 bytes at 148)."""
    m = bytearray(body)
    h = bytearray(m[:512])
    h[148:156] = b" " * 8
    m[148:156] = b"%07o " % sum(h)
    return bytes(m)


def short_csize(clam_exe):
    """clam.exe deflated, its headers saying 0 compressed bytes, no data descriptor: `jar x`
    writes all of clam.exe before it throws (attack review 6)."""
    text = b"hello clean\n" * 20
    c = defl(clam_exe)
    a = lh(b"readme.txt", 0, 0, zlib.crc32(text), len(text), len(text)) + text
    b = lh(b"clam.exe", 0, 8, zlib.crc32(clam_exe), 0, len(clam_exe)) + c
    cd = (cde(b"readme.txt", 0, 0, zlib.crc32(text), len(text), len(text), 0) +
          cde(b"clam.exe", 0, 8, zlib.crc32(clam_exe), 0, len(clam_exe), len(a)))
    return a + b + cd + eocd(2, len(cd), len(a + b))


def main():
    if sys.argv[1] == "--method-zip":  # METHOD NAME PACKED ORIGINAL OUT
        method, name, packed, orig, dest = sys.argv[2:7]
        body = method_zip(name.encode(), open(orig, "rb").read(), int(method),
                          open(packed, "rb").read())
        with open(dest, "wb") as f:
            f.write(body)
        return
    src, out = sys.argv[1], sys.argv[2]
    read = lambda n: open(os.path.join(src, n), "rb").read()
    clam_zip, clam_cab, clam_exe = read("clam.zip"), read("clam.cab"), read("clam.exe")
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00"
    decoy = b"PK\x03\x04" + b"\0" * 50
    clean = zip_of([("readme.txt", b"hello clean text\n" * 20)])
    files = {
        "decoy.gif": gif + b"\0" * 50 + decoy + clam_zip,
        "decoy.zip": decoy + clam_zip,
        "cab.gif": gif + b"\0" * 100 + clam_cab,
        "fextra.gz": gzip_fextra(clam_zip, b"hello clean text\n" * 10),
        "crypt.zip": zipcrypto(b"clam.exe", clam_exe, b"infected"),
        "iso.gif": iso9660(b"CLAM.EXE", clam_exe, gif),
        # ISO 9660 as 7-Zip and Windows read it, libclamav not (review 18): a file in two
        # extents (libclamav scans each half on its own), a record with an interleave unit
        # (libclamav skips the file); a UDF bridge (7-Zip and Windows read the UDF tree, not
        # read here: unsupported)
        "multiext.iso": iso9660(b"CLAM.EXE", clam_exe, b"", multi=True),
        "unit.iso": iso9660(b"CLAM.EXE", clam_exe, b"", unit=1),
        "bridge.iso": iso9660(b"README.TXT", b"hello clean text\n", b"", vrs=True),
        # UDF in an order libclamav's reader does not walk (review 18, F8): read by lib/ww_udf
        "clam-udf.iso": udf(b"clam.exe", clam_exe),
        # a dynamic VHD of a FAT disk (Windows mounts it with a double click)
        "clam-dynamic.vhd": vhd_dynamic(mbr_disk(fat12([("CLAM.EXE", clam_exe)]))),
        "clam.vhdx": vhdx(mbr_disk(fat12([("CLAM.EXE", clam_exe)]))),
        # an RPM, which libclamav 1.4 does not read: its payload, a cpio compressed
        "clam.rpm": rpm(gzip.compress(newc([(b"./usr/bin/clam.exe", clam_exe, 0o100755)]))),
        "clam-xz.rpm": rpm(lzma.compress(newc([(b"./usr/bin/clam.exe", clam_exe, 0o100755)]))),
        # streams and a cpio behind a stub (7-Zip's signature search opens them; libclamav
        # reads them at a file's start only: review 18, F11)
        "stubgz.exe": b"MZ" + bytes(62) + b"This program cannot be run in DOS mode.\r\n" * 3 +
        gzip.compress(clam_exe),
        "stubxz.bin": bytes(range(4)) * 256 + lzma.compress(clam_exe),
        "stubcpio.exe": b"MZ" + bytes(62) + b"stub\r\n" * 20 +
        newc([(b"clam.exe", clam_exe, 0o100644)]),
        # a binary cpio behind a text (review 19: 7-Zip finds it in a .txt)
        "bincpio.txt": b"Release notes\n\n" + b"- nothing to see here\n" * 80 +
        bincpio([(b"clam.exe", clam_exe, 0o100644)]),
        # behind an image's or a text's bytes, what 7-Zip finds anywhere (attack review 20): an
        # ARJ, a CHM, an NSIS installer's data from its first header on, a binary cpio with no
        # link behind HTML
        "arj.gif": gif + b"\0" * 50 + read("clam.arj"),
        "chm.txt": b"Release notes\n\n" + b"- nothing to see here\n" * 80 + read("clam.chm"),
        "nsis.gif": gif + b"\0" * 50 + nsis_data(read("clam-nsis.exe")),
        "nlink0cpio.html": b"<!DOCTYPE html>\n<html><body>\n" + b"<p>nothing here</p>\n" * 60 +
        bincpio([(b"clam.exe", clam_exe, 0o100644)], nlink=0),
        # a zip header no reader takes (a NUL in its name: Unsupported.ZipHeaders, allowed by
        # default), then 4 bare 7z signatures, then the cpio: past the second look's limit,
        # which must not lose to the decoy's verdict (attack review 20, D1)
        "decoys.txt": b"Release notes\n\n" + b"- nothing to see here\n" * 80 + b"PK\x03\x04" +
        struct.pack("<HHHHHIIIHH", 20, 8, 99, 0, 0, 0, 0, 0, 3, 0) + b"a\0b words " +
        b" text ".join([b"7z\xbc\xaf\x27\x1c"] * 4) + b" more words\n" +
        bincpio([(b"clam.exe", clam_exe, 0o100644)]),
        # containers 7-Zip opens and nothing here reads (review 18, F12): their headers only
        "header.wim": b"MSWIM\0\0\0" + struct.pack("<I", 208) + bytes(500),
        "header.qcow2": b"QFI\xfb\0\0\0\x03" + bytes(504),
        # an ext2 file system's superblock (attack review 21, B4: 7-Zip extracts ext2/3/4)
        "header.ext2": bytes(1024) + struct.pack("<II", 16, 64) + bytes(16) +
        struct.pack("<I", 0) + bytes(28) + struct.pack("<H", 0xef53) + bytes(18) +
        struct.pack("<I", 1) + bytes(2048 - 1104),
        "lzma.zip": lzma_zip("clam.exe", clam_exe),
        "z64.zip": decoy + zip64_end(clam_zip),
        "overrun.zip": decoy + clam_zip[:-2] + b"\x01\x00",
        "big.gif": gif + decoy + zip_of([("pad.bin", os.urandom(2 << 20)), ("clam.exe", clam_exe)]),
        "isodecoy.gif": iso9660(b"CLAM.EXE", clam_exe, gif + decoy),
        "cabdecoy.gif": gif + decoy + clam_cab,
        "lzmainzip.zip": zip_of([("inner.zip", lzma_zip("clam.exe", clam_exe))]),
        "lhlie.zip": local_size_lie(zip_of([("clam.exe", clam_exe)])),
        "mailid3.eml": b"ID3: x\n" + read("clam.mail"),
        "decoys6.gif": gif + (b"MSCF\0\0\0\0" + b"\0" * 40) * 6 + clam_cab,
        # members outside the central directory (Java's ZipInputStream extracts clam.exe from
        # each; unzip, Python and libclamav list readme.txt only)
        "unlisted.zip": hidden_member(clean, local_only(b"clam.exe", clam_exe)),
        "unlisteddd.zip": hidden_member(clean, local_only(b"clam.exe", clam_exe, descriptor=True)),
        "twozips.zip": zip_of([("clam.exe", clam_exe)]) + clean,
        "nodir.zip": local_only(b"clam.exe", clam_exe),
        "unlistedlzma.zip": hidden_member(clean, members_only(lzma_zip("clam.exe", clam_exe))),
        # a tar whose first member is named like an image: libclamav types the tar by that name
        # and never unpacks it; tar xf gives clam.exe
        "giftar.tar": tar_of([(b"GIF89a.gif", gif), (b"clam.exe", clam_exe)]),
        "giftar.tar.gz": gzip.compress(tar_of([(b"GIF89a.gif", gif), (b"clam.exe", clam_exe)])),
        "v7giftar.tar": tar_of([(b"GIF89a.gif", gif), (b"clam.exe", clam_exe)], None),
        # members ZipInputStream reads otherwise than libclamav (attack review 5)
        "ddsize.zip": stream_lies(clam_exe, "ddsize"),
        "cdzero.zip": stream_lies(clam_exe, "cdzero"),
        "z64half.zip": stream_lies(clam_exe, "z64half"),
        "storedlie.zip": stream_lies(clam_exe, "stored"),
        # a zip header the walk cannot read (zip64 sizes, no field) before a hidden cabinet
        "z64decoycab.gif": gif + b"\0" * 50 + lh(b"x", 0, 0, 0, 0xffffffff, 0xffffffff) +
        b"\0" * 50 + clam_cab,
        # legitimate: a zip written to a pipe that stores a zip of 1100 members; a zip after a
        # spanning marker
        "csize0.zip": short_csize(clam_exe),
        # 8 bytes at 148 that make the first 512 a tar header: the body keeps its own type
        # (attack review 6): a zip with no directory, a mail whose first header is ID3
        "tarsumnodir.zip": tar_checksum(lh(b"a" * 200 + b".txt", 0, 0, 0, 0, 0) +
                                        member(b"clam.exe", clam_exe)),
        "tarsumid3.eml": tar_checksum(b"ID3: x\n" + b"X-Pad: " + b"a" * 200 + b"\n" +
                                      read("clam.mail")),
        "paxsize.tar": pax_size_tar(clam_exe),
        # headers libclamav's tar reader read otherwise than GNU tar (round 10)
        "typea.tar": tar_trick(clam_exe, "typeA"),
        "volume.tar": tar_trick(clam_exe, "volume"),
        "symlink.tar": tar_trick(clam_exe, "symlink"),
        "v7inustar.tar": tar_trick(clam_exe, "v7inustar"),
        "nameless.tar": tar_trick(clam_exe, "nameless"),
        "sumnul.tar": tar_trick(clam_exe, "sumnul"),
        "base256.tar": tar_trick(clam_exe, "base256"),
        "paxsparse.tar": tar_trick(clam_exe, "paxsparse"),
        "b64sum.tar": tar_trick(clam_exe, "b64sum"),
        "paxtab.tar": tar_trick(clam_exe, "paxtab"),
        "slashdir.tar": tar_trick(clam_exe, "slashdir"),
        "paxpad.tar": tar_trick(clam_exe, "paxpad"),
        # a tar after blocks that are not headers: GNU tar skips them ("This does not look like a
        # tar archive") and extracts clam.exe, exit status 2 (attack review 7, G2)
        "gifthentar.gif": (gif + b"x" * 499) + tar_of([(b"clam.exe", clam_exe)]),
        "textthentar.txt": b"Dear user, run tar xf on this file.\n" * 42 +
        b"x" * 24 + tar_of([(b"clam.exe", clam_exe)], None),
        "badsumfirst.tar": tar_header(b"readme.txt", 0)[:148] + b"7777777\0" +
        tar_header(b"readme.txt", 0)[156:] + tar_of([(b"clam.exe", clam_exe)]),
        "nonamefirst.tar": tar_header(b"", 0) + tar_of([(b"clam.exe", clam_exe)]),
        # a decoy signature before such a tar: the bytes are kept from the decoy, the tar is on
        # the body's 512-byte grid (attack review 11, F1)
        "decoytar.gif": (gif + b"PK\x03\x04" + b"A" * 495) + tar_of([(b"clam.exe", clam_exe)]),
        # a tar in two bzip2 streams, clam.exe in the second: bzip2 -d and tar read both,
        # libclamav the first only (pbzip2 writes such files) (same review, F2)
        "twostreams.tar.bz2": bz2.compress(tar_of([(b"clam.exe", clam_exe)])[:512]) +
        bz2.compress(tar_of([(b"clam.exe", clam_exe)])[512:]),
        # formats libclamav has no reader for, read by the deep scanner (round 11): a legacy
        # zstd frame, a .deb (ar) whose data.tar.xz holds clam.exe, a .tar.lzma (GNU tar runs
        # lzma -d for the suffix)
        "legacy.zst": zstd_v07(clam_exe),
        "pkg.deb": ar_of([(b"debian-binary", b"2.0\n"),
                          (b"control.tar.gz", gzip.compress(tar_of([(b"./control", b"Package: x\n")]))),
                          (b"data.tar.xz", lzma.compress(tar_of([(b"./usr/bin/clam.exe", clam_exe)])))]),
        "clam.tar.lzma": lzma.compress(tar_of([(b"clam.exe", clam_exe)]), format=lzma.FORMAT_ALONE),
        # zip members libclamav skips ("unsupported method"), decoded by the deep scanner (round
        # 12): xz (WinZip, 7-Zip; libarchive and so Windows 11 extract it); lzip (tar --lzip);
        # PPMd, which nothing here decodes (its data junk: the method alone decides)
        "xz.zip": method_zip(b"clam.exe", clam_exe, 95, lzma.compress(clam_exe)),
        "clam.lz": lzip(clam_exe),
        "clam.tar.lz": lzip(tar_of([(b"clam.exe", clam_exe)])),
        "ppmd.zip": method_zip(b"clam.exe", clam_exe, 98, b"\x06\x00" + clam_exe[::-1]),
        # Unix compress: .Z and .tar.Z (tar -Z; gzip -d reads .Z), which libclamav cannot undo
        "clam.exe.Z": compress_z(clam_exe),
        # attack review 15: a .Z of 8-bit width (gzip -d reads it: 9-bit codes); an empty gzip
        # member then a .Z stream (gzip -d and tar xzf read both); a deflate member whose stream
        # gives clam.exe and junk, the directory saying clam.exe's size (Python's zipfile writes
        # clam.exe)
        "bits8.Z": compress_z(clam_exe, 8),
        "gzthenz.gz": gzip.compress(b"") + compress_z(clam_exe),
        # gzip -d (tar xzf, zcat) reads these; libclamav reads none of them (round 13)
        "old9e.exe.gz": b"\x1f\x9e" + gzip.compress(clam_exe)[2:],
        "old9e.tar.gz": b"\x1f\x9e" + gzip.compress(tar_of([(b"clam.exe", clam_exe)]))[2:],
        "gzthen9e.gz": gzip.compress(b"hello\n") + b"\x1f\x9e" + gzip.compress(clam_exe)[2:],
        "clam.exe.pack": pack_z(clam_exe),
        "clam.tar.pack": pack_z(tar_of([(b"clam.exe", clam_exe)])),
        "gzthenpack.gz": gzip.compress(b"hello\n") + pack_z(clam_exe),
        "packthengz.z": pack_z(b"hello\n") + gzip.compress(clam_exe),
        "lzh.z": b"\x1f\xa0" + os.urandom(600),
        "clam.lzh": lha0(b"clam.exe", clam_exe),
        "clam.tar.lzh": lha0(b"clam.tar", tar_of([(b"clam.exe", clam_exe)])),
        "clam-lh5.lzh": lha0(b"clam.exe", clam_exe, b"-lh5-"),
        "sfxlha.exe": b"MZ" + os.urandom(200000) + lha0(b"clam.exe", clam_exe, b"-lh5-"),
        "clam.img": fat12([("README.TXT", b"hello clean text\n"), ("SUB/CLAM.EXE", clam_exe)]),
        "disk.img": mbr_disk(fat12([("CLAM.EXE", clam_exe)])),
        "clean.img": fat12([("README.TXT", b"hello clean text\n" * 100)]),
        "ntfs.img": b"\xEB\x52\x90NTFS    " + bytes(499) + b"\x55\xAA" + os.urandom(4096),
        "dynamic.vhd": b"conectix" + os.urandom(4096),
        "badhdr.lzh": lha0(b"clam.exe", clam_exe)[:1] + b"\0" + lha0(b"clam.exe", clam_exe)[2:],
        "deflatejunk.zip": method_zip(b"clam.exe", clam_exe, 8, raw_deflate(clam_exe + bytes(64))),
        "clam.tar.Z": compress_z(tar_of([(b"clam.exe", clam_exe)]), 12),
        "badlzip.lz": b"LZIP\x01\x00" + lzma.compress(clam_exe, format=lzma.FORMAT_RAW, filters=[
            {"id": lzma.FILTER_LZMA1, "lc": 3, "lp": 0, "pb": 2}]),
        "streamed.zip": streamed_bundle(1100),
        "marker.zip": hidden_member(zip_of([("f%04d.txt" % i, b"x") for i in range(1100)]),
                                    b"PK\x07\x08"),
    }
    os.makedirs(out, exist_ok=True)
    for name, body in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    main()
