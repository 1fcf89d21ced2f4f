"""Test package (shared helpers are imported as tests.xxx)."""
