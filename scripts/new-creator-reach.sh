#!/usr/bin/env bash
# Does a new creator's work reach people in a busy world? Starts a demo world, has a new creator
# upload N videos, then a new viewer in the same region pages through For You, finishing and
# liking the creator's videos whenever they appear and skipping the rest. Prints, page by page,
# how many of the uploads the viewer has met.
# usage: scripts/new-creator-reach.sh [BIN=target/release/foryou] [UPLOADS=15] [PAGES=10] [demo flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/foryou}
uploads=${2:-15}
pages=${3:-10}
shift $(( $# < 3 ? $# : 3 ))
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$port
"$bin" demo --data "$dir/data" --addr 127.0.0.1:$port "$@" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 1200); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.5; done
grep "demo: ready" "$dir/server.log" || true
tok() { curl -sf -XPOST "$B/v1/sessions" -d "{\"handle\":\"$1\",\"password\":\"a long password 1\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])'; }
for h in reachcreator reachviewer; do
  curl -sf -XPOST "$B/v1/accounts" -d "{\"handle\":\"$h\",\"password\":\"a long password 1\",\"birthdate\":\"1990-01-01\",\"country\":\"DE\"}" >/dev/null
done
C=$(tok reachcreator); V=$(tok reachviewer)
"$bin" synth-clip --seconds 4 --out "$dir/clip.mp4" >/dev/null
mine=""
for k in $(seq 1 "$uploads"); do
  mine="$mine $(curl -sf -XPOST "$B/v1/videos" -H "Authorization: Bearer $C" -F "caption=new creator clip $k" -F "file=@$dir/clip.mp4;type=video/mp4" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')"
done
found=0
for page in $(seq 1 "$pages"); do
  ids=$(curl -sf "$B/v1/feed?limit=10" -H "Authorization: Bearer $V" | python3 -c 'import sys,json; print(" ".join(i["id"] for i in json.load(sys.stdin)["items"]))')
  ev=""; n=0
  for id in $ids; do
    n=$((n+1))
    if [[ " $mine " == *" $id "* ]]; then
      found=$((found+1))
      ev="$ev{\"id\":\"p$page-$n\",\"kind\":\"view\",\"video_id\":\"$id\",\"watch_ms\":4000},{\"id\":\"l$page-$n\",\"kind\":\"like\",\"video_id\":\"$id\"},"
    else
      ev="$ev{\"id\":\"p$page-$n\",\"kind\":\"skip\",\"video_id\":\"$id\",\"watch_ms\":300},"
    fi
  done
  [ -n "$ev" ] && curl -sf -XPOST "$B/v1/events" -H "Authorization: Bearer $V" -d "{\"events\":[${ev%,}]}" >/dev/null
  echo "page $page: $found of $uploads uploads met"
done
