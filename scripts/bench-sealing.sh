#!/usr/bin/env bash
# What does sealing every event-log record cost at intake? Builds commit BASE (default 430daaa,
# the last before sealing) beside this tree, then measures POST /v1/events (one fsynced view per
# request, wrk, 16 connections) on each build, alternating, ROUNDS times. Needs wrk.
# usage: scripts/bench-sealing.sh [SECONDS_PER_RUN=15] [ROUNDS=2] [BASE=430daaa]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
rounds=${2:-2}
base_commit=${3:-430daaa}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git worktree add -q --detach "$work/base" "$base_commit"
trap 'git worktree remove --force "$work/base"; rm -rf "$work"' EXIT
cargo build --release --quiet -p foryou
(cd "$work/base" && CARGO_TARGET_DIR="$PWD/../target-base" cargo build --release --quiet -p foryou)
run_one() { # NAME BIN
  local bin=$2 dir port base pid out
  dir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base=http://127.0.0.1:$port
  "$bin" serve --addr 127.0.0.1:$port --data "$dir/data" --limits "login_per_handle=off,login_per_client=off,signup_per_client=off,comments_per_user=off,events_per_user=off,uploads_per_user=off" --max-connections-per-client 1024 >"$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf -XPOST "$base/v1/accounts" -d '{"handle":"benchviewer","password":"bench password 1","birthdate":"1990-01-01","country":"US"}' >/dev/null
  export FY_TOKEN=$(curl -sf -XPOST "$base/v1/sessions" -d '{"handle":"benchviewer","password":"bench password 1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
  "$bin" synth-clip --seconds 3 --out "$dir/clip.mp4" >/dev/null
  export FY_VIDEO=$(curl -sf -XPOST "$base/v1/videos" -H "Authorization: Bearer $FY_TOKEN" -F caption=bench -F "file=@$dir/clip.mp4;type=video/mp4" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
  out=$(wrk -t2 -c16 -d"${secs}s" --latency -s scripts/wrk/events.lua "$base" 2>&1)
  echo "$1: $(awk '/Requests\/sec/ {print $2}' <<<"$out") events req/s, p50 $(awk '$1=="50%" {print $2}' <<<"$out"), p99 $(awk '$1=="99%" {print $2}' <<<"$out")"
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
}
for r in $(seq 1 "$rounds"); do
  run_one "round $r, before sealing ($base_commit)" "$work/target-base/release/foryou"
  run_one "round $r, sealed" target/release/foryou
done
