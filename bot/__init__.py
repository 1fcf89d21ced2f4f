"""Outage bot: watches services and posts Arabic and English outage alerts to Discord."""

__version__ = "0.1.0"
