"""vpce-audit: compliance auditing and linting for AWS VPC endpoints and the networks around them.

Pipeline: collect (boto3, read-only) -> snapshot -> rules -> report -> CLI.
"""

__version__ = "0.1.0"
