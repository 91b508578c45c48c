"""Citizen accounts: sign-up, my data, correction, erasure (helpers are in tests/conftest.py)."""
