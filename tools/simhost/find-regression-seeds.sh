#!/bin/bash
# Re-finds the regression seeds of test/sim/host-sim.test.ts after a change that moves the
# simulator's draws (any change to message flow, timers or the engine's passes does).
# usage: tools/simhost/find-regression-seeds.sh [SEEDS=12]   (after npm run build)
# For each plant: the first seed from 1 that fails with the plant and passes without it.
# Then the lease negative control (--drift 0.6 --lease-drift-ticks 0, seeds 1-200) and the
# flipped snapshot metadata seed. Paste the numbers into the test.
set -u
N=${1:-12}
sim() { node dist/tools/sim-host.js "$@" 2>&1; }
first_fail() { # args: sim args...; prints the failing seeds (with their first failure line)
  sim --seeds "$N" --first 1 --steps 40 --jobs 2 "$@" | awk '/^seed [0-9]+ FAILED:/{s=$2; getline; print s, $0}'
}
# plant|what its seed must report (the test's expectation)|extra args
for spec in "fsync-lies|leader completeness|" "snapshot-skips-sessions|state hash|" "compaction-drops-needed|CompactedError|" \
    "votes-ignore-log|leader completeness|" "lease-too-long|linearizable read (lease mode)|--read-mode lease"; do
  IFS='|' read -r plant expect extra <<< "$spec"
  set -- $extra
  found=""
  while read -r seed line; do
    [ -z "$seed" ] && continue
    case "$line" in *"$expect"*) ;; *) continue ;; esac
    if sim --seed "$seed" --steps 40 "$@" | grep -q "0 failed"; then found="$seed: $line"; break; fi
  done < <(first_fail --plant "$plant" "$@")
  echo "plant $plant${*:+ ($*)}: ${found:-none in 1-$N}"
done
found=""
while read -r seed line; do
  [ -z "$seed" ] && continue
  if sim --seed "$seed" --steps 40 --read-mode lease --drift 0.6 | grep -q "0 failed"; then found="$seed: $line"; break; fi
done < <(N=200 first_fail --read-mode lease --drift 0.6 --lease-drift-ticks 0)
echo "lease bound (--drift 0.6 --lease-drift-ticks 0): ${found:-none in 1-200}"
# A seed's verbose output comes before its digest line.
flip=$(sim --seeds 40 --first 1 --steps 40 --jobs 2 --verbose | awk '/refused start \(damaged disk\): CorruptionError: damaged snapshot metadata/{f=1} f && /^seed [0-9]+: digest/{sub(":", "", $2); print $2; exit}')
echo "flipped snapshot metadata: seed ${flip:-none in 1-40}"
