"""``python -m bot simulate``: the real pipeline on a bundled outage, in virtual time, offline.

``scenarios`` (what the world does), ``loopback`` (the servers that play it), ``clock`` (the
accelerated virtual clock), ``crowd`` (report injection), ``console`` (the console "Discord"),
``runner`` (the wiring) and ``cli`` (the command).
"""
