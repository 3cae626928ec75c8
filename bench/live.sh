#!/usr/bin/env bash
# Live process events (issue 13): how many of N short-lived processes `moat watch --live`
# alerts on, through the process-events connector and through /proc polling, and the CPU
# CPU time moat spends doing it (utime + stime of its /proc/PID/stat). Each process is `/bin/sh -c <cmd> MARK-i` started one after
# another from this script; the rule fires on `spawned_process and proc.cmdline contains
# MARK`. Two workloads: `:` (the shell exits at once, ~1 ms) and `sleep 0.02`. Needs root
# (the connector); prints one table row per source and workload.
#   bench/live.sh
#   N=500 MOAT=/var/tmp/moat-t-live/debug/moat bench/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
[ -n "${MOAT:-}" ] || { [ -n "${NOBUILD:-}" ] || cargo build --release --locked -q --workspace; }
MOAT=${MOAT:-${CARGO_TARGET_DIR:-$PWD/target}/release/moat}
[ "$(id -u)" = 0 ] || { echo "bench/live.sh: needs root (the process-events connector)"; exit 1; }
python3 -u - "$MOAT" "$N" <<'PY'
import os, subprocess, sys, tempfile, time, json
moat, n = sys.argv[1], int(sys.argv[2])
for source in ("netlink", "proc"):
    for work in (":", "sleep 0.02"):
        mark = f"moatbench{os.getpid()}{source}" + "".join(c for c in work if c.isalnum())
        with tempfile.TemporaryDirectory() as d:
            rules = os.path.join(d, "r.yaml")
            open(rules, "w").write(
                "- macro: spawned_process\n  condition: (evt.type in (execve, execveat) and evt.dir=<)\n"
                f"- rule: marked\n  desc: d\n  condition: spawned_process and proc.cmdline contains {mark}\n"
                "  output: \"%proc.cmdline\"\n  priority: INFO\n")
            p = subprocess.Popen([moat, "watch", "--rules", rules, "--live", "--live-source", source,
                                  "--format", "json", "--duration", "3600"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            while True:
                line = p.stderr.readline()
                if not line:
                    sys.exit(f"moat did not start: {p.communicate()[1]}")
                if "watching live process events" in line:
                    break
            t0 = time.monotonic()
            for i in range(n):
                subprocess.run(["/bin/sh", "-c", work, f"{mark}-{i}"], check=True)
            wall = time.monotonic() - t0
            time.sleep(1.0)
            st = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
            cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
            p.terminate()
            out, _ = p.communicate()
            seen = {json.loads(l)["output"].rsplit("-", 1)[-1] for l in out.splitlines() if l.strip()}
            print(f"| live --live-source {source}, `sh -c '{work}'` x {n} | {len(seen)}/{n} alerted "
                  f"({100 * len(seen) / n:.1f}%) | {n / wall:.0f} processes/s started | "
                  f"moat CPU {cpu:.2f} s ({1e3 * cpu / n:.2f} ms per process) | "
                  f"load {open('/proc/loadavg').read().split()[0]} |")
PY
