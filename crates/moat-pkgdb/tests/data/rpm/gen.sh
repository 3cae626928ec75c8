#!/bin/sh
# Regenerates the *.expected and *.files oracles in this directory with Debian's rpm 4.18
# (apt-get install rpm). Fixtures are copied to a scratch dir first: /work/shared is never
# written. NDB (not built into Debian's rpm) and the lone header blob are imported into a
# fresh sqlite rpmdb with `rpmdb --importdb`, from blobs cut out by ndb_blobs.py (an
# independent Python extractor), so the header parsing is still rpm's own.
set -eu
F=${FIXTURES:-/work/shared/data/fixtures/rpm}
OUT=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/rpm-oracle.XXXXXX)
Q='%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\n'
mkdir -p "$T/cbl-mariner-2.0" "$T/libuuid" "$T/syft-Packages" "$T/Packages_epoch" "$T/sle15-bci" "$T/sle15-bci-src" "$T/package.header"
cp "$F"/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite* "$T/cbl-mariner-2.0/"
cp "$F"/go-rpmdb/libuuid/Packages "$T/libuuid/"
cp "$F"/syft/Packages "$T/syft-Packages/"
cp "$F"/osv-scalibr/Packages_epoch "$T/Packages_epoch/Packages"
chmod -R u+w "$T"
python3 "$OUT/ndb_blobs.py" "$F/go-rpmdb/sle15-bci/Packages.db" > "$T/sle15-bci-src/headers"
rpmdb --dbpath "$T/sle15-bci" --importdb < "$T/sle15-bci-src/headers"
python3 -c 'import sys; sys.stdout.buffer.write(b"\x8e\xad\xe8\x01\0\0\0\0" + open(sys.argv[1], "rb").read())' \
  "$F/claircore/package.header" | rpmdb --dbpath "$T/package.header" --importdb

q() { # fixture extra-rpm-args...
  name=$1; shift
  {
    case $name in
      sle15-bci) printf "# python3 ndb_blobs.py go-rpmdb/sle15-bci/Packages.db | rpmdb --dbpath DIR --importdb; rpm --dbpath DIR -qa --queryformat '%s' | sort   (rpm 4.18.0, Debian)\n" "$Q";;
      package.header) printf "# (8e ade801 00000000 + claircore/package.header) | rpmdb --dbpath DIR --importdb; rpm --dbpath DIR -qa --queryformat '%s' | sort   (rpm 4.18.0, Debian)\n" "$Q";;
      *) printf "# rpm %s --dbpath DIR -qa --queryformat '%s' | sort   (DIR = copy of the fixture; rpm 4.18.0, Debian)\n" "$*" "$Q";;
    esac
    rpm "$@" --dbpath "$T/$name" -qa --queryformat "$Q" 2>/dev/null | sort
  } > "$OUT/$name.expected"
}
ql() { # fixture package extra-rpm-args...   (BerkeleyDB copies have no Name index: use -qal there)
  name=$1; pkg=$2; shift 2
  if [ $# -gt 0 ]; then sel="-qal"; else sel="-ql $pkg"; fi
  { echo "# rpm $* --dbpath DIR $sel   (rpm 4.18.0, Debian)"; rpm "$@" --dbpath "$T/$name" $sel 2>/dev/null; } > "$OUT/$name.$pkg.files"
}
q cbl-mariner-2.0
q libuuid --define '_db_backend bdb_ro'
q syft-Packages --define '_db_backend bdb_ro'
q Packages_epoch --define '_db_backend bdb_ro'
q sle15-bci
q package.header
ql cbl-mariner-2.0 bash
ql cbl-mariner-2.0 filesystem
ql libuuid libuuid --define '_db_backend bdb_ro'
ql syft-Packages dive --define '_db_backend bdb_ro'
ql Packages_epoch hello --define '_db_backend bdb_ro'
ql sle15-bci glibc
ql package.header crypto-policies
rm -rf "$T"
