#!/usr/bin/env bash
# make demo: a cluster of the sample app under ./demo, booted, with one
# instance started; prints its URL and status.  Uses the images
# tests/setup.sh builds and serves on 127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18080}
if [ ! -e demo/cluster.ini ]; then
	./cluster.sh create demo --template sample --bind 127.0.0.1 demo
fi
./demo/cluster.sh boot
if [ ! -e demo/instances/site/instance.ini ]; then
	./demo/cluster.sh new --port "$PORT" site
fi
./demo/instances/site/instance.sh start
./demo/cluster.sh status
./demo/cluster.sh list
port=$(sed -n 's/^port = //p' demo/instances/site/instance.ini)
echo
echo "the demo instance answers at http://127.0.0.1:$port/ :"
curl -fsS "http://127.0.0.1:$port/"
echo
echo "try: curl -X POST -d '{\"body\": \"hello\"}' http://127.0.0.1:$port/items"
echo "stop everything with: ./demo/cluster.sh shutdown"
