#!/usr/bin/env bash
# make demo: a cluster of the sample app under ./demo, booted, with its status.
# Uses the images tests/setup.sh builds and serves on 127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -e demo/cluster.ini ]; then
	./cluster.sh create demo --template sample --bind 127.0.0.1 demo
fi
./demo/cluster.sh boot
./demo/cluster.sh status
echo "demo cluster in ./demo; stop it with: ./demo/cluster.sh shutdown"
