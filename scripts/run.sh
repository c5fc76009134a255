#!/usr/bin/env bash
# make run: migrate, load the demo data, start the server and the field app; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p "$YIXIAN_VAR_DIR"
$PY -m server migrate
$PY -m server load-demo
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
setsid $PY -m server serve --port "$YIXIAN_PORT" & pids+=($!)
if [ -f fieldapp/main.py ]; then
  export YIXIAN_SERVER_URL="http://127.0.0.1:$YIXIAN_PORT"
  export YIXIAN_DATA_DIR="$YIXIAN_VAR_DIR/app"
  setsid $PY -m fieldapp & pids+=($!)
fi
echo "一线 Yixian: server http://127.0.0.1:$YIXIAN_PORT (API docs at /docs), app http://127.0.0.1:$YIXIAN_APP_PORT — Ctrl-C stops both"
wait
