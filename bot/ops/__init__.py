"""Operating the bot: ``health`` (/healthz and /metrics), ``metrics`` (the Prometheus
registry), ``logs`` (text or JSON lines, secrets redacted)."""
