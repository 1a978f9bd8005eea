"""``python -m vpce_audit``: the same as the ``vpce-audit`` command."""

from vpce_audit.launch import run

run()
