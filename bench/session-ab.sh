#!/bin/bash
# The quiet A/B of a session's tree against an older build (issue 19's rows), interleaved.
# usage: bench/session-ab.sh OLD_DIR NEW_DIR [PAIRS]  (both built: dist/ present)
# Run with nothing else on the machine. Prints one line per run.
set -u
OLD=$1; NEW=$2; PAIRS=${3:-3}
lib() { (cd "$1" && node dist/bench/profile-library.js --shards="$2" --inflight="$3" --seconds=5 --reps=1 --no-prof 2>/dev/null | grep -E "in flight, [0-9]+ shard" | head -1); }
for i in $(seq 1 "$PAIRS"); do
  for s in 1 16; do
    for b in "$OLD" "$NEW"; do echo "$(date +%T) pair$i $(basename "$b") shards=$s inflight=1024 $(lib "$b" $s 1024)"; done
  done
  for b in "$NEW" "$OLD"; do echo "$(date +%T) pair$i $(basename "$b") shards=1 inflight=1 $(lib "$b" 1 1)"; done
done
