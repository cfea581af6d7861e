#!/usr/bin/env bash
# Vigil and Patroni 4.1.5 side by side, in one run, on this machine: the guide's cluster in
# the lab (same PostgreSQL 18, etcd, HAProxy configuration and timings), first under Vigil,
# then under Patroni. For each: time to bootstrap a 2-node cluster, idle agent memory and CPU,
# GET /primary throughput and p99 latency under wrk, and every drill ROUNDS times, measured by
# the same write probe (vigilctl lab drill). Writes bench/results/<time>-<profile>.md,
# bench/results/latest-<profile>.md, and bench/results/latest.md (the latest run of each profile).
#
#   bench/run.sh                 # fast profile (ttl 10, loop_wait 1, retry_timeout 3)
#   PROFILE=guide bench/run.sh   # the guide's timings (ttl 30, loop_wait 10, retry_timeout 30)
#   ROUNDS=1 bench/run.sh        # each drill once (default 3)
#   DRILLS="switchover kill-primary" bench/run.sh
#   CONFIG=release bench/run.sh  # measure a release build (builds it first)
#   SYNC=on bench/run.sh         # synchronous replication: on, strict or quorum (default off, as the guide)
#   NODES=3 SYNC=quorum bench/run.sh
#   AGENTS=vigil bench/run.sh    # one system only (default: vigil patroni)
#
# In synchronous mode it also measures commit latency: pgbench (simple-update, 4 clients, 20 s)
# through HAProxy's write port, the same settings for both systems.
#
# Installs what it needs first (scripts/install-deps.sh: etcd, HAProxy, PostgreSQL 18, Patroni, wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-fast}
rounds=${ROUNDS:-3}
drills=${DRILLS:-"switchover stop-primary crash-postgres kill-primary agent-crash freeze-primary isolate-primary etcd-down"}
config=${CONFIG:-debug}
sync=${SYNC:-off}
nodes=${NODES:-2}
agents=${AGENTS:-"vigil patroni"}
# Results are named by profile, by synchronous mode and node count when not the guide's, and
# by the one system measured when only one is (a one-system run never replaces a comparison).
tag=$profile
[ "$sync" = off ] || tag="$tag-sync-$sync"
[ "$nodes" = 2 ] || tag="$tag-$nodes-nodes"
[ "$(echo $agents)" = "vigil patroni" ] || tag="$tag-$(echo $agents | tr ' ' -)"
VIGIL_BENCH_TOOLS=1 scripts/install-deps.sh >/dev/null
swift build -c "$config" --product vigil >/dev/null
swift build -c "$config" --product vigilctl >/dev/null
bin=$(swift build -c "$config" --show-bin-path)
stamp=$(date +%Y-%m-%dT%H%M%S)
work=$(mktemp -d /tmp/vigil-bench-XXXXXX)
chmod 755 "$work"
declare -A subnets=([vigil]=127.0.70 [patroni]=127.0.71)
trap 'for a in vigil patroni; do "$bin/vigilctl" lab down --dir "$work/$a" --subnet "${subnets[$a]}" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT

# Idle CPU of a process over $1 seconds, in percent of one core (utime+stime from /proc).
cpu_percent() {
  local pid=$1 seconds=$2 hz; hz=$(getconf CLK_TCK)
  local before after
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$seconds"
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  awk -v a="$after" -v b="$before" -v s="$seconds" -v hz="$hz" 'BEGIN {printf "%.2f", (a - b) / hz / s * 100}'
}

for agent in $agents; do
  dir="$work/$agent"
  subnet=${subnets[$agent]}
  echo "==> $agent: lab up from an empty directory ($profile timings, $nodes nodes, synchronous replication $sync)"
  began=$(date +%s.%N)
  "$bin/vigilctl" lab up --dir "$dir" --subnet "$subnet" --profile "$profile" --agent "$agent" --sync "$sync" --nodes "$nodes" \
    --pg-bin "$(cat .tools/pg18-bin)" | tail -n 3
  ended=$(date +%s.%N)
  echo "$agent bootstrap $(awk -v a="$ended" -v b="$began" 'BEGIN {printf "%.2f", a - b}')" >>"$work/figures.txt"

  echo "==> $agent: idle agents for 30 s"
  sleep 5
  pids=$(pgrep -f "$dir/postgres1..\.yml" || true)
  rss=0; cpu=0; n=0
  for pid in $pids; do
    rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")))
    cpu=$(awk -v a="$cpu" -v b="$(cpu_percent "$pid" 30)" 'BEGIN {print a + b}')
    n=$((n + 1))
  done
  echo "$agent idle_rss_mib $(awk -v r="$rss" -v n="$n" 'BEGIN {printf "%.1f", r / n / 1024}')" >>"$work/figures.txt"
  echo "$agent idle_cpu_percent $(awk -v c="$cpu" -v n="$n" 'BEGIN {printf "%.2f", c / n}')" >>"$work/figures.txt"

  echo "==> $agent: GET /primary under wrk (10 connections, 10 s)"
  # The primary is the node whose GET /primary answers 200.
  host=
  for n in $(seq 21 $((20 + nodes))); do
    [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$subnet.$n:8008/primary")" = 200 ] && host="$subnet.$n"
  done
  [ -n "$host" ] || { echo "no node answers GET /primary with 200; the lab is not healthy" >&2; exit 1; }
  wrk -t2 -c10 -d10s --latency "http://$host:8008/primary" >"$work/wrk-$agent.txt" 2>&1 || true
  echo "$agent primary_rps $(awk '/Requests\/sec/ {print $2}' "$work/wrk-$agent.txt")" >>"$work/figures.txt"
  echo "$agent primary_p99 $(awk '$1 == "99%" {print $2}' "$work/wrk-$agent.txt")" >>"$work/figures.txt"
  sleep 3

  if [ "$sync" != off ]; then
    echo "==> $agent: commit latency (pgbench simple-update through HAProxy, 4 clients, 20 s)"
    pgbin=$(cat .tools/pg18-bin)
    export PGPASSFILE="$dir/pgpass"
    "$pgbin/pgbench" -h "$subnet.1" -p 5432 -U postgres -i -s 4 -q postgres >/dev/null 2>&1 || true
    "$pgbin/pgbench" -h "$subnet.1" -p 5432 -U postgres -N -c 4 -j 2 -T 20 postgres >"$work/pgbench-$agent.txt" 2>&1 || true
    unset PGPASSFILE
    echo "$agent commit_latency_ms $(awk '/^latency average/ {print $4}' "$work/pgbench-$agent.txt")" >>"$work/figures.txt"
    echo "$agent commit_tps $(awk '/^tps/ {print $3; exit}' "$work/pgbench-$agent.txt")" >>"$work/figures.txt"
    sleep 2
  fi

  for round in $(seq 1 "$rounds"); do
    for drill in $drills; do
      echo "==> $agent: drill $drill (round $round)"
      # Exit status 3 means acknowledged writes were lost; that is a result to report, not a stop.
      "$bin/vigilctl" lab drill "$drill" --dir "$dir" --subnet "$subnet" | grep -v '^  report' || echo "  (the drill exited $?)"
      sleep 2
    done
  done
  # Every agent's, etcd's, HAProxy's and PostgreSQL's log, kept with the reports: a drill that
  # failed is explained from them, and the lab directory is removed when the run ends.
  mkdir -p "$work/logs-$agent"
  (cd "$dir" && find . -name '*.log' -type f -not -path './bin/*' -exec cp --parents {} "$work/logs-$agent/" \;) || true
  "$bin/vigilctl" lab down --dir "$dir" --subnet "$subnet" | tail -n 1
done

out="bench/results/$stamp-$tag.md"
# Every drill's JSON report and SVG timeline, kept (outside git) whatever the summary does.
mkdir -p "bench/results/tmp/$stamp-$tag"
for agent in $agents; do
  cp -r "$work/$agent/reports" "bench/results/tmp/$stamp-$tag/$agent" 2>/dev/null || true
  cp -r "$work/logs-$agent" "bench/results/tmp/$stamp-$tag/$agent/logs" 2>/dev/null || true
done
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
python3 - "$work" "$profile" "$out" "$machine" "$config" "$rounds" "$sync" "$nodes" "$tag" "$drills" <<'PY'
import json, glob, os, sys, statistics, datetime
work, profile, out, machine, config, rounds, sync, nodes, tag, drill_order = sys.argv[1:11]
runs = {}
for path in sorted(glob.glob(os.path.join(work, "*", "reports", "*.json"))):
    r = json.load(open(path))
    runs.setdefault((r["drill"], r["agent"]), []).append(r)
figures = {}
for line in (open(os.path.join(work, "figures.txt")) if os.path.exists(os.path.join(work, "figures.txt")) else []):
    # A figure a tool could not measure (wrk failed, no agent found) is left blank.
    agent, key, *value = line.split(None, 2)
    figures[(agent, key)] = value[0].strip() if value else ""
first = next(iter(runs.values()))[0] if runs else {}
timings = (first.get("ttl"), first.get("loop_wait"), first.get("retry_timeout"))

def span(values):
    values = [v for v in values if v is not None]
    if not values: return "–", None
    med = statistics.median(values)
    return (f"{min(values):.2f} / {med:.2f} / {max(values):.2f}" if len(values) > 1 else f"{med:.2f}"), med

def ratio(v, p):
    return f"{v / p:.2f}" if v is not None and p not in (None, 0) else "–"

ttl, loop, retry = timings
mode = "asynchronous replication, as the guide" if sync == "off" else {
    "on": "synchronous replication (synchronous_mode: on)",
    "strict": "synchronous replication (synchronous_mode: on, synchronous_mode_strict: true)",
    "quorum": "quorum commit (synchronous_mode: quorum)"}.get(sync, sync)
lines = [f"# Vigil and Patroni 4.1.5 side by side ({profile} timings, {mode}, {nodes} nodes)", "",
         f"Measured {datetime.date.today().isoformat()} on {machine}; Vigil {config} build; "
         f"{rounds} round(s) of each drill.", "",
         f"Configured: ttl {ttl}, loop_wait {loop}, retry_timeout {retry}. Effective: Vigil uses them as written; "
         f"Patroni raises ttl to its floor of 20 and retry_timeout to 3 (ttl {max(ttl or 0, 20)}, loop_wait {loop}, "
         f"retry_timeout {max(retry or 0, 3)}).", "",
         "Every figure comes from the same probe for both systems: `vigilctl lab drill` writes through HAProxy (the lab's",
         "generated configuration: checks every 1 s, fall 2, rise 1, on-marked-down shutdown-sessions), one INSERT",
         "every 20 ms, reconnecting after 0.5 s; beside it one client per node writes straight to that node's PostgreSQL",
         "(as a job or an application that bypasses HAProxy would). Write downtime: the longest stretch without an",
         "acknowledged write through HAProxy after the fault. Lost: acknowledged rows (any client) missing from the primary",
         "afterwards. Two primaries: the old primary's last acknowledged write less the new primary's first (above 0, both",
         "took writes at once; the largest of the rounds). Rejoin: until every node streams again.",
         "Cells are min / median / max.", "",
         "## Drills", "",
         "| drill | agent | rounds | write downtime (s) | new primary serving (s) | acknowledged writes | lost writes | two primaries (s) | rejoin (s) |",
         "|---|---|---|---|---|---|---|---|---|"]
ratios = []
known = drill_order.split()  # the order the drills ran in
for drill in [d for d in known if any(k[0] == d for k in runs)] + sorted({d for d, _ in runs} - set(known)):
    meds = {}
    for agent in ["vigil", "patroni"]:
        rs = runs.get((drill, agent), [])
        if not rs: continue
        down, meds[agent] = span([r["write_downtime_seconds"] for r in rs])
        primary, _ = span([r.get("primary_after_seconds") for r in rs])
        rejoin, _ = span([r.get("rejoin_seconds") for r in rs])
        broken = sum(1 for r in rs if r.get("rejoin_seconds") is None)
        if broken: rejoin += f" ({broken} not whole within 180 s)"
        lost = sum(r["lost_writes"] for r in rs)
        acked = sum(r["acknowledged_writes"] for r in rs)
        overlaps = [r["two_primaries_seconds"] for r in rs if r.get("two_primaries_seconds") is not None]
        two = f"{max(overlaps):.2f}" if overlaps else "–"
        lines.append(f"| {drill} | {agent} | {len(rs)} | {down} | {primary} | {acked} | {lost} | {two} | {rejoin} |")
    if meds:
        ratios.append((f"{drill}: write downtime", meds.get("vigil"), meds.get("patroni"), "s"))

def fig(agent, key):
    v = figures.get((agent, key))
    if v is None or v == "" or v == "nan": return None
    if v.endswith("ms"): return float(v[:-2])
    if v.endswith("us"): return float(v[:-2]) / 1000
    if v.endswith("s"): return float(v[:-1]) * 1000
    return float(v)

lines += ["", "## The agents", "", "| measure | Vigil | Patroni | Vigil ÷ Patroni |", "|---|---|---|---|"]
for key, label in [("bootstrap", "lab up from nothing to Leader + streaming Replica (s)"),
                   ("idle_rss_mib", "idle agent RSS (MiB, mean of the two nodes)"),
                   ("idle_cpu_percent", "idle agent CPU (% of a core over 30 s)"),
                   ("primary_rps", "GET /primary requests/s (wrk, 10 connections)"),
                   ("primary_p99", "GET /primary p99 latency (ms)"),
                   ("commit_latency_ms", "commit latency through HAProxy (pgbench -N, 4 clients, ms)"),
                   ("commit_tps", "commits/s through HAProxy (pgbench -N, 4 clients)")]:
    if key.startswith("commit") and sync == "off": continue
    v, p = fig("vigil", key), fig("patroni", key)
    lines.append(f"| {label} | {v if v is not None else '–'} | {p if p is not None else '–'} | {ratio(v, p)} |")
    ratios.append((label, v, p, ""))

lines += ["", "## Ratios (Vigil ÷ Patroni; below 1 is Vigil lower)", "", "| measure | ratio |", "|---|---|"]
for label, v, p, _ in ratios:
    lines.append(f"| {label} | {ratio(v, p)} |")
lines.append("")
text = "\n".join(lines)
open(out, "w").write(text)
results = os.path.dirname(out)
# latest-<tag>.md per profile and mode; latest.md holds the latest of each, fast first.
open(os.path.join(results, f"latest-{tag}.md"), "w").write(text)
tags = ["fast", "guide"] + sorted(os.path.basename(p)[len("latest-"):-3] for p in glob.glob(os.path.join(results, "latest-*-*.md")))
parts = [open(os.path.join(results, f"latest-{p}.md")).read() for p in tags
         if os.path.exists(os.path.join(results, f"latest-{p}.md"))]
open(os.path.join(results, "latest.md"), "w").write("\n".join(parts))
print(text)
print(f"written to {out}, bench/results/latest-{tag}.md and bench/results/latest.md")
PY
