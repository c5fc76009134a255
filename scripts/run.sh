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
# The supervision job (due-soon warnings, overdue escalation): every YIXIAN_ESCALATE_EVERY seconds.
setsid $PY -m server escalate --every "${YIXIAN_ESCALATE_EVERY:-300}" > "$YIXIAN_VAR_DIR/escalate.log" 2>&1 & pids+=($!)
if [ -f fieldapp/main.py ]; then
  export YIXIAN_SERVER_URL="http://127.0.0.1:$YIXIAN_PORT"
  export YIXIAN_DATA_DIR="$YIXIAN_VAR_DIR/app"
  setsid $PY -m fieldapp & pids+=($!)
fi
echo "一线 Yixian: server http://127.0.0.1:$YIXIAN_PORT (API docs at /docs), app http://127.0.0.1:$YIXIAN_APP_PORT, escalation job every ${YIXIAN_ESCALATE_EVERY:-300} s (log: $YIXIAN_VAR_DIR/escalate.log) — Ctrl-C stops all three"
wait
