"""The running pipeline: the I/O around the pure core.

``scheduler`` polls each source on time (leases, backoff, fast re-checks, canaries) and hands
observations to ``monitor``, which fuses them (``bot.detect``), steps the incident state
machine and writes each incident event with its deliveries (``bot.notify.outbox``) in one
transaction. Nothing here imports the Discord edge: the delivery worker reads the outbox.
"""
