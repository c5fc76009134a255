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
# The supervision job (due-soon warnings, overdue escalation) runs inside the server every
# YIXIAN_ESCALATE_EVERY seconds: a failed run is logged and retried, /ready shows its last success.
export YIXIAN_ESCALATE_EVERY="${YIXIAN_ESCALATE_EVERY:-300}"
setsid $PY -m server serve --port "$YIXIAN_PORT" 2> >(tee -a "$YIXIAN_VAR_DIR/server.log" >&2) & pids+=($!)
if [ -f fieldapp/main.py ]; then
  export YIXIAN_SERVER_URL="http://127.0.0.1:$YIXIAN_PORT"
  export YIXIAN_DATA_DIR="$YIXIAN_VAR_DIR/app"
  setsid $PY -m fieldapp & pids+=($!)
fi
echo "一线 Yixian: server http://127.0.0.1:$YIXIAN_PORT (API docs at /docs), app http://127.0.0.1:$YIXIAN_APP_PORT, escalation job in the server every $YIXIAN_ESCALATE_EVERY s (JSON log: $YIXIAN_VAR_DIR/server.log; /ready, /metrics) — Ctrl-C stops both"
wait
