"""Domain reasoning shared by rules: CIDR overlap, route selection, endpoint-policy semantics.

Pure functions over the model; nothing here imports boto3.
"""
