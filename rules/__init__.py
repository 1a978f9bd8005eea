"""Rule metadata, one YAML file per rule; installed as the package vpce_audit.rule_metadata."""
