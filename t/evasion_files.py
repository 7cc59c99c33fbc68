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
(A zstd file is made by t/ww_encode: the standard library has no zstd compressor.)
"""
import os
import struct
import sys
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


def gzip_fextra(extra, text):
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = comp.compress(text) + comp.flush()
    return (b"\x1f\x8b\x08\x04\0\0\0\0\0\xff" + struct.pack("<H", len(extra)) + extra + packed +
            struct.pack("<II", zlib.crc32(text), len(text)))


def main():
    src, out = sys.argv[1], sys.argv[2]
    read = lambda n: open(os.path.join(src, n), "rb").read()
    clam_zip, clam_cab, clam_exe = read("clam.zip"), read("clam.cab"), read("clam.exe")
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00"
    decoy = b"PK\x03\x04" + b"\0" * 50
    files = {
        "decoy.gif": gif + b"\0" * 50 + decoy + clam_zip,
        "decoy.zip": decoy + clam_zip,
        "cab.gif": gif + b"\0" * 100 + clam_cab,
        "fextra.gz": gzip_fextra(clam_zip, b"hello clean text\n" * 10),
        "crypt.zip": zipcrypto(b"clam.exe", clam_exe, b"infected"),
    }
    os.makedirs(out, exist_ok=True)
    for name, body in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    main()
