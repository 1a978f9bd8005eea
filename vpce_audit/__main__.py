"""``python -m vpce_audit``: the same as the ``vpce-audit`` command."""

from vpce_audit.cli import entry

entry()
