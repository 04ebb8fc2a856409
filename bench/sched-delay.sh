#!/bin/bash
# How long the library's processes wait for a CPU (issue 19: the tail at few proposals in flight).
# Runs one library row (`profile-library.js`, three host processes) and, over 4 s of it after a
# 4 s warm-up, records the scheduler with `perf sched`; then prints, for the hosts' main threads
# (the event loops) and for their other threads (thread pool, V8's helpers), how many times they
# were switched in and the delay between becoming runnable and running (p50 … max, and how many
# waited over 0.5, 1 and 2 ms), with the busiest kernel threads beside them.
# usage: bench/sched-delay.sh [profile-library flags]   (default: --inflight=1; the script sets
#   --seconds, --reps and --no-prof itself; needs perf,
#   Debian's linux-perf, and root or kernel.perf_event_paranoid <= 0; run from the repository
#   root after `npm run build`, with nothing else on the machine; KEEP=1 keeps the recorded files)
set -eu
command -v perf >/dev/null || { echo "sched-delay: perf is not installed (Debian: apt-get install -y linux-perf)"; exit 1; }
[ -f dist/bench/profile-library.js ] || { echo "sched-delay: run from the repository root after npm run build"; exit 1; }
ARGS=("$@"); [ ${#ARGS[@]} -eq 0 ] && ARGS=(--inflight=1)
TMP=$(mktemp -d); trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT; [ -n "${KEEP:-}" ] && echo "sched-delay: files in $TMP"
node dist/bench/profile-library.js "${ARGS[@]}" --seconds=12 --reps=1 --no-prof >"$TMP/run.txt" 2>&1 &
RUN=$!
sleep 4
# The hosts' threads; a main thread's id is its process id.
for p in $(pgrep -f 'dist/bench/host-child.js'); do
  for t in /proc/"$p"/task/*; do echo "$(basename "$t") $p"; done
done >"$TMP/tids.txt"
if ! perf sched record -q -o "$TMP/sched.data" -- sleep 4 >"$TMP/perf.txt" 2>&1; then
  echo "sched-delay: perf sched record failed (it needs root or kernel.perf_event_paranoid <= 0):"
  tail -3 "$TMP/perf.txt"
  wait "$RUN" || true
  exit 1
fi
wait "$RUN" || true
grep -E 'in flight, [0-9]+ shard' "$TMP/run.txt" || { echo "sched-delay: the library run printed no result:"; tail -5 "$TMP/run.txt"; exit 1; }
perf sched timehist -i "$TMP/sched.data" 2>/dev/null | awk 'NR > 3 { split($3, a, /[][]/); split(a[2], t, "/"); print t[1], $5, $6, a[1] }' >"$TMP/switches.txt"
# Each switch of a host thread, as its kind and the delay it waited; kernel threads' run time apart.
awk 'FNR == NR { kind[$1] = ($1 == $2) ? "main" : "other"; next }
  ($1 in kind) { print kind[$1], $2, $3 > "/dev/stdout"; next }
  $4 ~ /^k/ { krun[$4] += $3 }
  END { for (t in krun) printf "kernel %s %.3f\n", t, krun[t] > "/dev/stderr" }' \
  "$TMP/tids.txt" "$TMP/switches.txt" >"$TMP/host.txt" 2>"$TMP/kernel.txt"
for k in main other; do
  awk -v k="$k" '$1 == k { print $2, $3 }' "$TMP/host.txt" | sort -n | awk -v k="$k" '
    { d[++n] = $1; run += $2 }
    function pct(p,   i) { i = int(n * p); if (i < 1) i = 1; return d[i] }
    END {
      if (n == 0) exit
      for (i = 1; i <= n; i++) { if (d[i] > 0.5) o5++; if (d[i] > 1) o1++; if (d[i] > 2) o2++ }
      printf "hosts, %s threads: %d switches in, %.0f ms run; waited for a CPU (ms) p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f; over 0.5 ms %d, over 1 ms %d, over 2 ms %d\n",
        (k == "main" ? "main" : "other"), n, run, pct(0.5), pct(0.9), pct(0.99), pct(0.999), d[n], o5 + 0, o1 + 0, o2 + 0
    }'
done
sort -k3 -rn "$TMP/kernel.txt" | head -3 | awk '{ printf "kernel thread %s: %.0f ms run\n", $2, $3 }'
