"""Reporters: a scan result in, text out. They write nothing themselves."""
