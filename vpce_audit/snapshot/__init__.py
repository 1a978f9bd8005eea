"""Snapshot: the versioned JSON document between collection and rules, and its indexed views."""
