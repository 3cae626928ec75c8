# Shared by the bench scripts: `source bench/lib.sh` (from the repository root) after setting `tmp` (a scratch
# directory) and `RUNS`.

# ok_status CODE: whether an exit code is a finished run: 0, 1 (findings), 200 (kingfisher's
# "findings"). A script may define its own before calling measure.
ok_status() { [ "$1" -le 1 ] || [ "$1" -eq 200 ]; }

# measure CMD...: runs CMD $RUNS times, its stdout discarded; prints
# "median_wall_s median_peak_kib median_cpu_s" (CPU = user + system). A run whose exit code is
# not ok_status fails the measurement with the last lines of its stderr.
measure() {
  local i
  : > "$tmp/m"
  for ((i = 0; i < RUNS; i++)); do
    # `$?` is read once, since a `[` resets it
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/t" "$@" > /dev/null 2> "$tmp/err" || ok_status $? ||
      { echo "failed: $*" >&2; tail -n 5 "$tmp/err" >&2; return 1; }
    tail -n 1 "$tmp/t" >> "$tmp/m"
  done
  python3 - "$tmp/m" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(float(r[0]) for r in rows), int(statistics.median(int(r[1]) for r in rows)),
      statistics.median(float(r[2]) + float(r[3]) for r in rows))
PY
}

# The `moat serve` benches (serve.sh, admission.sh, serve-load.sh) share these; they need MOAT
# and OUT (the shared images' directory).

# serve_inventories: moat's JSON inventories of the shared images lang-app, debian-tools and
# debian-base, as $tmp/NAME.json (the package pool of bench/gen-server-inventories.py).
serve_inventories() {
  local img
  for img in lang-app debian-tools debian-base; do
    "$MOAT" inventory "docker-archive:$OUT/$img.docker.tar" --format json --quiet -o "$tmp/$img.json"
  done
}

# serve_start ARGS...: starts `moat serve` on 127.0.0.1 (a free port) with ARGS, without rate
# limits or the advisory database watch, its stderr in $tmp/serve.log; sets srv (its pid) and
# url. The caller's EXIT trap kills "$srv".
serve_start() {
  "$MOAT" serve --listen 127.0.0.1:0 --watch-db 0 --rate 1000000 --burst 1000000 "$@" \
    2> "$tmp/serve.log" &
  srv=$!
  local i
  for i in $(seq 300); do grep -q 'serving on' "$tmp/serve.log" && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.:]*' "$tmp/serve.log" | head -1)
  [ -n "$url" ] || { echo "moat serve did not start:" >&2; cat "$tmp/serve.log" >&2; return 1; }
}
