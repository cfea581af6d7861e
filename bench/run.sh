#!/usr/bin/env bash
# Side-by-side drills: the guide's cluster in the lab, the same faults, first under Vigil,
# then under Patroni 4.1.5, in one run. Prints a table and writes it to bench/results/.
#
#   bench/run.sh                 # fast profile (Vigil ttl 10; Patroni raises it to its floor, 20)
#   PROFILE=guide bench/run.sh   # the guide's timings (ttl 30, loop_wait 10, retry_timeout 30)
#   ROUNDS=3 bench/run.sh        # each drill three times
#
# Needs what `make test` installs (etcd, HAProxy, PostgreSQL 18, Patroni) and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-fast}
rounds=${ROUNDS:-1}
bin=$(swift build --show-bin-path)
stamp=$(date +%Y-%m-%dT%H%M%S)
work=$(mktemp -d /tmp/vigil-bench-XXXXXX)
chmod 755 "$work"
trap 'for a in vigil patroni; do "$bin/vigilctl" lab down --dir "$work/$a" --subnet "${subnets[$a]}" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
declare -A subnets=([vigil]=127.0.70 [patroni]=127.0.71)

for agent in vigil patroni; do
  dir="$work/$agent"
  echo "==> $agent: lab up ($profile timings)"
  "$bin/vigilctl" lab up --dir "$dir" --subnet "${subnets[$agent]}" --profile "$profile" --agent "$agent" \
    --pg-bin "$(cat .tools/pg18-bin)" | tail -n 3
  sleep 3
  for pid in $(pgrep -f "$dir/postgres1..\.yml" || true); do
    echo "$agent idle RSS: $(awk '/VmRSS/ {print $2}' /proc/$pid/status) kB (pid $pid)" | tee -a "$work/rss.txt"
  done
  for round in $(seq 1 "$rounds"); do
    for drill in switchover stop-primary kill-primary; do
      echo "==> $agent: drill $drill (round $round)"
      # Exit status 3 means acknowledged writes were lost; that is a result to report, not a stop.
      "$bin/vigilctl" lab drill "$drill" --dir "$dir" --subnet "${subnets[$agent]}" || echo "  (the drill exited $?)"
      sleep 2
    done
  done
  "$bin/vigilctl" lab down --dir "$dir" --subnet "${subnets[$agent]}" | tail -n 1
done

out="bench/results/$stamp-$profile.md"
python3 - "$work" "$profile" "$out" <<'PY'
import json, glob, os, sys, statistics
work, profile, out = sys.argv[1:4]
rows = {}
for path in sorted(glob.glob(os.path.join(work, "*", "reports", "*.json"))):
    r = json.load(open(path))
    rows.setdefault((r["drill"], r["agent"]), []).append(r)
lines = [f"# Drills, Vigil and Patroni side by side ({profile} timings)", "",
         "Write downtime is measured by a client writing through HAProxy (generated config: checks every 1 s,",
         "fall 2, rise 1); lost writes are acknowledged rows missing from the new primary.", "",
         "| drill | agent | write downtime (s) | lost writes | acknowledged | old primary streaming again (s) |",
         "|---|---|---|---|---|---|"]
for (drill, agent), rs in sorted(rows.items()):
    med = lambda k: statistics.median([r[k] for r in rs if k in r]) if any(k in r for r in rs) else float("nan")
    lines.append(f"| {drill} | {agent} | {med('write_downtime_seconds'):.2f} | {sum(r['lost_writes'] for r in rs)} | "
                 f"{sum(r['acknowledged_writes'] for r in rs)} | {med('rejoin_seconds'):.2f} |")
rss = open(os.path.join(work, "rss.txt")).read().strip() if os.path.exists(os.path.join(work, "rss.txt")) else ""
lines += ["", "Idle agent memory:", "", "```", rss, "```", ""]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
print(f"written to {out}")
PY
