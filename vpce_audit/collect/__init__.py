"""Collectors: the only code that talks to AWS. Read-only Describe / List / Get calls."""
