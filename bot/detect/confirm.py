"""Fast confirmation: when a probe fails, look again soon instead of at the next poll (pure).

Gatus needs about three poll intervals to confirm an outage; we re-check a failing probe
every ``recheck_every`` (10 s) up to ``max_rechecks`` (3) times. Each re-check is a new probe
reading, so the incident state machine counts it as a round (``Verdict.probe_at`` changes):
at the default 3-of-4 rule a probe-only outage opens on the second re-check, about 20 s after
the first failure, well inside one 60 s poll interval.

The scheduler keeps one ``failure_count`` per probe source (``count_failures``) and asks
``next_check`` when to poll it next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.sources.base import Observation
from bot.status import Status


@dataclass(frozen=True, slots=True)
class ConfirmConfig:
    recheck_every: timedelta = timedelta(seconds=10)
    max_rechecks: int = 3
    interval: timedelta = timedelta(seconds=60)  # the regular poll interval (POLL_INTERVAL)

    def __post_init__(self) -> None:
        if self.recheck_every <= timedelta(0) or self.interval <= timedelta(0) or self.max_rechecks < 0:
            raise ValueError("recheck_every and interval must be positive, max_rechecks >= 0")


def count_failures(previous: int, obs: Observation) -> int:
    """Consecutive failed readings of one probe source after ``obs``.

    An outage status adds one; an ok reading resets to zero; ``unknown`` (could not tell)
    keeps the count, so it neither starts nor cancels a confirmation burst.
    """
    if obs.status.is_outage:
        return previous + 1
    if obs.status is Status.UNKNOWN:
        return previous
    return 0


def next_check(
    after_failure_count: int,
    now: datetime,
    config: ConfirmConfig = ConfirmConfig(),
    *,
    interval: timedelta | None = None,
) -> datetime:
    """When to poll a probe source next, given its consecutive failures so far.

    Failures 1..``max_rechecks`` schedule a re-check after ``recheck_every`` (never later than
    the regular poll); no failure, or a burst already spent, waits the regular ``interval``
    (the source's own, when given, else the config's).
    """
    regular = interval if interval is not None else config.interval
    if 1 <= after_failure_count <= config.max_rechecks:
        return now + min(config.recheck_every, regular)
    return now + regular
