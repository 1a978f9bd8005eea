"""The rule engine: rule contract, metadata, registry and evaluation. No boto3 here."""
