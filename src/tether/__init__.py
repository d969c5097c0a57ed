"""Tether: an open platform for custom connectors."""

__version__ = "0.1.0"
