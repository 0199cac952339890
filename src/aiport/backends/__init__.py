"""Backends: the contract (`base`), upstream providers (`upstream`), embedded engines (`local`)."""
