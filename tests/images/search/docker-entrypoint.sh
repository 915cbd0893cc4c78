#!/bin/bash
# Entrypoint of 127.0.0.1:5000/korcluster-test/search (the Elasticsearch
# stand-in, see elasticsearch.py), shaped like the official images' one:
# only options given run the server with them; `elasticsearch` (or 7.x's
# `eswrapper`) runs the server; any other command runs as given. The server
# is PID 1 (exec) and stops on SIGTERM.
set -euo pipefail
case ${1:-} in -*) set -- elasticsearch "$@" ;; esac
case ${1:-} in
    elasticsearch | eswrapper) shift; exec python3 /usr/share/elasticsearch/lib/elasticsearch.py "$@" ;;
    *) exec "$@" ;;
esac
