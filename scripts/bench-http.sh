#!/usr/bin/env bash
# HTTP benchmarks of a release build on loopback (BENCHMARKS.md): throughput and latency of the
# feed, events and media at two concurrencies, memory under a flood of wrong-password log-ins,
# and a soak of mixed traffic with memory at start and end. Needs wrk (Debian's `wrk`).
# usage: scripts/bench-http.sh [SECONDS_PER_RUN=20] [SOAK_SECONDS=600]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
soak=${2:-600}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release --quiet -p foryou
bin=target/release/foryou
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# Limits off for the load runs: one user sends all the traffic here. The flood run below turns
# the log-in limits back on where it says so.
off="login_per_handle=off,login_per_client=off,signup_per_client=off,comments_per_user=off,events_per_user=off,uploads_per_user=off"
"$bin" demo --addr 127.0.0.1:$port --data "$dir/data" --rows 3000 --extra-videos 2000 --users 150 --limits "$off" --max-connections-per-client 1024 >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 600); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.5; done
read -r handle password < "$dir/data/demo-login.txt"
export FY_TOKEN=$(curl -sf -XPOST "$base/v1/sessions" -d "{\"handle\":\"$handle\",\"password\":\"$password\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
export FY_VIDEO=$(curl -sf "$base/v1/feed?limit=1&personalized=false" | python3 -c 'import sys,json; print(json.load(sys.stdin)["items"][0]["id"])')
export FY_HANDLE=$handle
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$pid/status; }
# The largest RSS seen while a run lasts, sampled every 200 ms into the file $1.
watch_rss() { local out=$1 max=0 now; : > "$out"; while kill -0 $pid 2>/dev/null && [ ! -e "$out.stop" ]; do now=$(rss); [ "$now" -gt "$max" ] && max=$now && echo $max > "$out"; sleep 0.2; done; }
during() { # run NAME CONC SCRIPT SECS, printing the row and the largest RSS during it
  local f; f=$(mktemp); watch_rss "$f" & local w=$!
  run "$@"
  touch "$f.stop"; wait $w 2>/dev/null; echo "largest RSS during it: $(cat "$f") MiB" >&2; rm -f "$f" "$f.stop"
}
run() { # name concurrency script seconds
  local out
  out=$(wrk -t2 -c"$2" -d"${4}s" --latency -s "scripts/wrk/$3.lua" "$base" 2>&1)
  local rps p50 p99 errs non2xx total
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Socket errors/ {print $0}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$1" "$2" "$total" "$rps" "$p50" "$p99" "${non2xx:-0}" "${errs:-none}"
}
echo "demo world ready; server RSS $(rss) MiB"
echo
echo "| route | connections | requests | req/s | p50 | p99 | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|---|"
for c in 16 64; do
  during "GET /v1/feed (personalised)" $c feed "$secs"
  during "POST /v1/events (1 view, fsynced)" $c events "$secs"
  during "GET /v1/videos/{id}/media (whole file)" $c media "$secs"
done
# A 45 MiB video (a real clip padded with a 'free' box) downloaded over 64 connections.
big=$dir/big.mp4
"$bin" synth-clip --seconds 10 --out "$big" >/dev/null
python3 -c 'import sys,struct; n=45<<20; f=open(sys.argv[1],"ab"); f.write(struct.pack(">I",n+8)+b"free"+bytes(n))' "$big"
big_id=$(curl -sf -XPOST "$base/v1/videos" -H "Authorization: Bearer $FY_TOKEN" -F "file=@$big" -F caption=big | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
FY_VIDEO=$big_id during "GET /v1/videos/{id}/media (45 MiB file)" 64 media "$secs"
echo
before=$(rss)
during "POST /v1/sessions, wrong password (limits off: every attempt hashes)" 512 login-flood "$secs"
echo "login flood: RSS $before -> $(rss) MiB"
echo
start=$(rss)
mid_out=$(mktemp)
( sleep $((soak / 2)); rss > "$mid_out" ) &
during "soak: mixed (12 feed, 6 events, 1 media, 1 bad cursor per 20)" 32 mixed "$soak"
echo "soak ${soak}s: RSS start $start MiB, middle $(cat "$mid_out") MiB, end $(rss) MiB (1 in 20 requests is a bad cursor answered 400)"
