#!/usr/bin/env bash
# The database's first run: a first `moat scan` of each shared image from an empty cache
# against a local mirror (bytes downloaded, wall time), a second image sharing sources (what
# it adds), an incremental `moat db update` after 1% of the records changed (bytes, time),
# and the database's size per record.
#
# The mirror is bench/gen-advisory-mirror.py's (RECORDS records, default 100,000, one OSV
# all.zip per ecosystem), plus what OSV's bucket has beside each archive for incremental
# updates: every record as <ecosystem>/<id>.json and <ecosystem>/modified_id.csv. It is
# served by a small Python HTTP server on 127.0.0.1 that logs every response's path and
# body size, which is what "bytes downloaded" counts.
#   bench/db-first-run.sh
#   RECORDS=20000 MOAT=/path/to/moat bench/db-first-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-100000}
IMAGES=${IMAGES:-/var/tmp/moat-images/out}
base=${MOAT_BENCH_DIR:-/var/tmp/moat-bench}/first-run
if [ -z "${MOAT:-}" ]; then
  cargo build --release --locked -q --workspace
  MOAT=${CARGO_TARGET_DIR:-$PWD/target}/release/moat
fi
tmp=$(mktemp -d -p "${TMPDIR:-/var/tmp}"); server=
cleanup() { [ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# The mirror, built once: the generated archives, each record beside them, and the index.
m=$base/mirror-$RECORDS
if [ ! -f "$m/.complete" ]; then
  rm -rf "$m"; mkdir -p "$base"
  python3 bench/gen-advisory-mirror.py ../shared/data/vulns "$m" "$RECORDS" > "$m.counts"
  python3 - "$m" <<'PY'
import os, sys, zipfile, json, datetime
root = sys.argv[1]
old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
for eco in sorted(os.listdir(root)):
    z = os.path.join(root, eco, "all.zip")
    if not os.path.isfile(z):
        continue
    ids = []
    with zipfile.ZipFile(z) as zf:
        for n in zf.namelist():
            if n.endswith(".json"):
                with open(os.path.join(root, eco, os.path.basename(n)), "wb") as out:
                    out.write(zf.read(n))
                ids.append(os.path.basename(n)[:-5])
    with open(os.path.join(root, eco, "modified_id.csv"), "w") as out:
        for i in ids:
            out.write(f"{old},{i}\n")
PY
  touch "$m/.complete"
fi

# A static server that logs "<path> <status> <bytes>" per response.
python3 - "$m" "$tmp/port" "$tmp/served" <<'PY' &
import http.server, sys, functools
root, portfile, log = sys.argv[1:4]
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def send_response(self, code, message=None):
        self._code = code
        super().send_response(code, message)
    def copyfile(self, src, dst):
        n = 0
        while True:
            b = src.read(1 << 20)
            if not b: break
            dst.write(b); n += len(b)
        with open(log, "a") as f: f.write(f"{self.path} {self._code} {n}\n")
    def send_head(self):
        f = super().send_head()
        if f is None:
            with open(log, "a") as fh: fh.write(f"{self.path} {getattr(self, '_code', 0)} 0\n")
        return f
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=root))
open(portfile, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
server=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$tmp/port")

served() { awk '{n+=$3} END {print n+0}' "$tmp/served" 2>/dev/null || echo 0; }
requests() { grep -c . "$tmp/served" 2>/dev/null || echo 0; }

# scan DB IMAGE: "seconds bytes requests" of one scan.
scan() {
  : > "$tmp/served"
  local t0 t1
  t0=$(date +%s.%N)
  # --cache off: a first run has no layer cache either
  MOAT_DB_URL=$url "$MOAT" scan -q --cache off --format json --db "$1" "$2" > /dev/null
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $(served) $(requests)"
}

echo "| step | target | wall s | bytes downloaded | requests |"
echo "|---|---|---:|---:|---:|"
for img in debian-base lang-app debian-tools; do
  f=$IMAGES/$img.docker.tar
  [ -f "$f" ] || { echo "skipped: $f missing" >&2; continue; }
  rm -f "$tmp/$img.db"
  read -r s b r < <(scan "$tmp/$img.db" "docker-archive:$f")
  echo "| first scan, empty cache | $img | $s | $b | $r |"
done
# A second image sharing the first one's sources: debian-tools after debian-base.
db=$tmp/shared.db; rm -f "$db"
read -r s b r < <(scan "$db" "docker-archive:$IMAGES/debian-base.docker.tar")
read -r s b r < <(scan "$db" "docker-archive:$IMAGES/debian-tools.docker.tar")
echo "| second image, same cache | debian-tools after debian-base | $s | $b | $r |"
read -r s b r < <(scan "$db" "docker-archive:$IMAGES/lang-app.docker.tar")
echo "| third image, adds its languages | lang-app after both | $s | $b | $r |"

# 1% of the records of every ecosystem the database holds change (index + record files).
python3 - "$m" "$tmp/changed" <<'PY'
import os, sys, json, datetime
root, out = sys.argv[1:3]
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
total = 0
for eco in sorted(os.listdir(root)):
    idx = os.path.join(root, eco, "modified_id.csv")
    if not os.path.isfile(idx):
        continue
    lines = [l for l in open(idx) if l.strip()]
    ids = [l.split(",", 1)[1].strip() for l in lines]
    k = max(1, len(ids) // 100)
    changed = ids[-k:]
    for i in changed:
        p = os.path.join(root, eco, i + ".json")
        rec = json.load(open(p))
        rec["modified"] = now
        rec["summary"] = (rec.get("summary") or "") + " (changed)"
        json.dump(rec, open(p, "w"))
    rest = [l for l in lines if l.split(",", 1)[1].strip() not in set(changed)]
    with open(idx, "w") as f:
        for i in changed:
            f.write(f"{now},{i}\n")
        f.writelines(rest)
    total += k
open(out, "w").write(str(total))
PY
: > "$tmp/served"
t0=$(date +%s.%N)
MOAT_DB_URL=$url "$MOAT" db update --db "$db" > /dev/null 2>&1
t1=$(date +%s.%N)
echo "| incremental update, 1% of records changed | the three images' sources | $(echo "$t1 - $t0" | bc) | $(served) | $(requests) |"
# The same update as whole archives, for comparison.
cp "$db" "$tmp/whole.db"
sqlite3 "$tmp/whole.db" "UPDATE sources SET last_modified = NULL, etag = NULL" 2>/dev/null \
  || python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('UPDATE sources SET last_modified = NULL, etag = NULL'); c.commit()" "$tmp/whole.db"
: > "$tmp/served"
t0=$(date +%s.%N)
MOAT_DB_URL=$url "$MOAT" db update --db "$tmp/whole.db" > /dev/null 2>&1
t1=$(date +%s.%N)
echo "| the same update from the whole archives | the three images' sources | $(echo "$t1 - $t0" | bc) | $(served) | $(requests) |"

recs=$("$MOAT" db status --db "$db" | sed -n 's/^records: *\([0-9]*\).*/\1/p')
size=$(stat -c %s "$db")
echo
echo "changed records: $(cat "$tmp/changed") (1% of each mirror ecosystem)"
echo "database: $recs records, $size bytes, $((size / (recs > 0 ? recs : 1))) bytes per record"
