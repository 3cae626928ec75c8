#!/usr/bin/env python3
"""Independent NDB blob extractor used only to build test expectations.
Scans a Packages.db for 16-byte aligned "BlbS" blob headers (no slot table use),
checks the "BlbE" trailer + adler32, and writes each header blob to stdout prefixed with
rpm's header magic (8e ad e8 01 00 00 00 00) so `rpmdb --importdb` can read it."""
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
out = sys.stdout.buffer
n = 0
for o in range(4096, len(d) - 16, 16):
    if d[o:o+4] != b'BlbS':
        continue
    _, idx, gen, ln = struct.unpack_from('<4sIII', d, o)
    blk = (16 + ln + 12 + 15) // 16
    end = o + blk * 16
    if end > len(d):
        continue
    csum, ln2, magic = struct.unpack_from('<II4s', d, end - 12)
    if magic != b'BlbE' or ln2 != ln or csum != zlib.adler32(d[o:end-12]):
        print(f'skip blob at {o}', file=sys.stderr); continue
    out.write(b'\x8e\xad\xe8\x01\x00\x00\x00\x00' + d[o+16:o+16+ln])
    n += 1
print(f'{n} blobs', file=sys.stderr)
