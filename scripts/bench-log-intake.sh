#!/usr/bin/env bash
# Does the transparency log slow event intake? Measures POST /v1/events (one view per request,
# fsynced) with wrk, alone and while an admin boosts and clears a video as fast as it can (each
# boost a durable transparency-log append), on one release build. Needs wrk.
# usage: scripts/bench-log-intake.sh [SECONDS_PER_RUN=15]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release --quiet -p foryou
bin=target/release/foryou
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
pw=$("$bin" admin create --handle benchboss --country US --data "$dir/data" | sed -n 's/.*one-time password: \([^ ]*\).*/\1/p')
"$bin" serve --addr 127.0.0.1:$port --data "$dir/data" --limits "login_per_handle=off,login_per_client=off,signup_per_client=off,comments_per_user=off,events_per_user=off,uploads_per_user=off" --max-connections-per-client 1024 >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
token() { curl -sf -XPOST "$base/v1/sessions" -d "{\"handle\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])'; }
curl -sf -XPOST "$base/v1/accounts" -d '{"handle":"benchviewer","password":"bench password 1","birthdate":"1990-01-01","country":"US"}' >/dev/null
export FY_TOKEN=$(token benchviewer "bench password 1")
boss=$(token benchboss "$pw")
"$bin" synth-clip --seconds 3 --out "$dir/clip.mp4" >/dev/null
export FY_VIDEO=$(curl -sf -XPOST "$base/v1/videos" -H "Authorization: Bearer $FY_TOKEN" -F caption=bench -F "file=@$dir/clip.mp4;type=video/mp4" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
run() {
  local out; out=$(wrk -t2 -c16 -d"${secs}s" --latency -s scripts/wrk/events.lua "$base" 2>&1)
  echo "$1: $(awk '/Requests\/sec/ {print $2}' <<<"$out") events req/s, p50 $(awk '$1=="50%" {print $2}' <<<"$out"), p99 $(awk '$1=="99%" {print $2}' <<<"$out")"
}
run "events alone"
( n=0; while [ ! -e "$dir/stop" ]; do
    a=boost; [ $((n % 2)) = 1 ] && a=clear
    curl -sf -XPOST "$base/v1/admin/videos/$FY_VIDEO/boost" -H "Authorization: Bearer $boss" -d "{\"action\":\"$a\",\"reason\":\"bench $n\"}" >/dev/null && n=$((n+1))
  done; echo "$n" > "$dir/boosts" ) &
bpid=$!
run "events while boosts are logged"
touch "$dir/stop"; wait "$bpid" || true
echo "boosts logged meanwhile: $(cat "$dir/boosts" 2>/dev/null || echo ?) ($(python3 -c "print(round($(cat "$dir/boosts" 2>/dev/null || echo 0)/$secs))")/s)"
size=$(curl -sf "$base/log/checkpoint" | sed -n 2p)
echo "transparency log size: $size entries"
