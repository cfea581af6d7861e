#!/usr/bin/env bash
# Stops test servers that a crashed test run left behind and removes their scratch
# directories. Every test server lives under a /tmp/vigil-test-* directory, which names it.
pids=$(pgrep -f '/tmp/vigil-test-' || true)
if [ -n "$pids" ]; then
  echo "stopping $(echo $pids | wc -w) leftover test server process(es)"
  kill -9 $pids 2>/dev/null || true
fi
rm -rf /tmp/vigil-test-* /tmp/vigil-config-* /tmp/vigilctl-test-* 2>/dev/null || true
