"""Notifications: rendering alerts for people (``render``, ``text``; pure) and delivering them
(outbox and workers, which do the I/O). Import submodules directly; this package imports
nothing so pure callers never pull in the database or Discord."""
