"""The auth tests use the real authorization server registered in tests/conftest.py."""
