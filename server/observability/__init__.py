"""Watching the server: request ids and JSON logs (``logs``), Prometheus metrics (``metrics``),
and the readiness probe (``readiness``)."""
