"""The network edge: ``client`` is the one HTTP client (timeouts, size caps, conditional GET,
per-host limits, Retry-After) and ``ssrf`` the guard every user-typed URL goes through."""
