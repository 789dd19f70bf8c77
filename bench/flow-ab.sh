#!/usr/bin/env bash
# A/B of flow control in one command: the same harness (this checkout's bench/flow*.ts)
# run against two revisions' src/, one after the other, then both side by side.
#
#   bench/flow-ab.sh [BASE [HEAD]] [-- bench/flow.ts arguments]
#   bench/flow-ab.sh main i10-flow -- --images 300 --levels 10,20,50
#
# BASE defaults to main, HEAD to the commit checked out here. Each side is a detached
# worktree in a temporary directory (removed at the end) holding that revision, with this
# checkout's harness copied over it (bench/flow.ts, flow-servers.ts, flow-worker.ts,
# support.ts, throughput-fixtures.ts) so both are measured the same way, and this
# checkout's node_modules linked in (a scratch tree, never committed). Results:
# bench/results/flow-ab-base.json and flow-ab-head.json; table: bench/flow-ab-table.ts.
# The sides run in turn, so run it on a quiet machine: drift between them is noise.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
base=main
head=$(git -C "$root" rev-parse HEAD)
if [[ $# -gt 0 && $1 != -- ]]; then base=$1; shift; fi
if [[ $# -gt 0 && $1 != -- ]]; then head=$1; shift; fi
[[ $# -gt 0 && $1 == -- ]] && shift
scratch=$(mktemp -d /tmp/flow-ab.XXXXXX)
cleanup() {
  for side in base head; do
    [[ -d $scratch/$side ]] && git -C "$root" worktree remove --force "$scratch/$side" >/dev/null 2>&1 || true
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
run_side() {
  local side=$1 ref=$2 tree=$scratch/$1
  shift 2
  git -C "$root" worktree add --detach "$tree" "$ref" >/dev/null
  for file in flow.ts flow-servers.ts flow-trace.ts flow-worker.ts support.ts throughput-fixtures.ts; do
    cp "$root/bench/$file" "$tree/bench/$file"
  done
  ln -s "$root/node_modules" "$tree/node_modules"
  echo "== $side: $ref ($(git -C "$tree" rev-parse --short HEAD))" >&2
  (cd "$tree" && node --import tsx bench/flow.ts --results "flow-ab-$side" "$@")
  cp "$tree/bench/results/flow-ab-$side.json" "$root/bench/results/flow-ab-$side.json"
}
run_side base "$base" "$@"
run_side head "$head" "$@"
cd "$root" && node --import tsx bench/flow-ab-table.ts bench/results/flow-ab-base.json bench/results/flow-ab-head.json
