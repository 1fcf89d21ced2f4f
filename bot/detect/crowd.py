"""Crowd reports: "it's down for me" from Discord users, counted honestly (pure).

The parts, in the order a report meets them:

* ``hash_user`` — reports keep an HMAC of the user id under a secret salt, never the raw id.
* ``should_count`` — one counted report per user per service per 30 minutes.
* ``account_weight`` — accounts younger than a day count half (their creation time is in the
  Discord snowflake id), so a swarm of fresh accounts cannot fake an outage cheaply.
* ``BucketCounts`` — weighted reports per 5-minute bucket, per guild and per problem.
* ``assess`` — compares the last 15 minutes with the baseline and says NONE / POSSIBLE /
  PROBLEMS, after anti-brigading.
* ``Peak`` — the highest count of an incident and when it happened ("25,800 at 12:51").

**The window.** "The last 15 minutes" is a sliding window ``(now-15 min, now]`` estimated from
5-minute buckets: everything in the current (partial) bucket, the two full ones before it, and
the share of the bucket before those that still lies inside the window, assuming its reports
were spread evenly. The usual count is prorated by time the same way, so it always covers
exactly 15 minutes. The count then moves smoothly minute by minute instead of jumping at
bucket boundaries, and a peak can fall on any minute ("at 12:51").

**Anti-brigading (exact rule).** In the window, with ``s = max_guild_share`` (1/3): the counted
total ``E`` is the largest number such that every guild contributes ``min(its reports, s·E)``
and those contributions add up to ``E``. No guild ever supplies more than a third of what is
counted, and with fewer than ``1/s`` guilds (one or two) ``E`` is 0 — one guild, or two, can
never trigger anything however many reports they send. Three guilds of 100, 1 and 1 report
count as 3, not 102. Besides, a spike needs ``min_guilds`` distinct guilds reporting.

**Levels.** PROBLEMS when, after anti-brigading, the counted reports are at least
``min_count`` (10), at least ``multiple`` (3) times the usual, and the Poisson probability of
seeing that many when the usual is expected is below ``p_value`` (1e-4). POSSIBLE uses a weaker
set of the same three numeric criteria (5 reports, 2×, 1e-2); anti-brigading is never relaxed.

**Hysteresis (leaving a level).** A level is entered by the rules above but kept, given the
``previous`` signal at that level, while the counted reports stay at or above ``hold`` (0.75)
times its minimum count *and* ``hold`` times its multiple of the usual (PROBLEMS: 7.5 and
2.25×; POSSIBLE: 3.75 and 1.5×), still pass that level's Poisson test, and come from
``min_guilds`` guilds. PROBLEMS falling below its hold steps down to POSSIBLE if POSSIBLE's
hold is still met. So at the tail of an outage a count wobbling around the threshold neither
resolves the incident and reopens a second one, nor flips "problems" on and off: it must fall
clearly below first. The Poisson test is not relaxed: a handful of reports that would be
ordinary noise (12 when 6 are usual) does not keep an incident open.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from bot.detect.baseline import BUCKET, Baseline, bucket_start
from bot.detect.model import CrowdLevel, CrowdSignal

__all__ = [
    "BUCKET",
    "Bucket",
    "BucketCounts",
    "CrowdConfig",
    "PROBLEMS",
    "Peak",
    "Report",
    "account_created_at",
    "account_weigher",
    "account_weight",
    "assess",
    "bucket_start",
    "counted_total",
    "hash_user",
    "poisson_tail",
    "should_count",
    "user_hasher",
]

DISCORD_EPOCH_MS = 1420070400000
NEW_ACCOUNT_AGE = timedelta(days=1)
NEW_ACCOUNT_WEIGHT = 0.5
RATE_LIMIT_WINDOW = timedelta(minutes=30)
PROBLEMS = ("login", "app", "website", "messages", "posting", "connection", "other")
_EPS = 1e-9


# --- who reported ---------------------------------------------------------------------------


def hash_user(user_id: int, salt: bytes) -> str:
    """A stable pseudonym for a user under ``salt`` (HMAC-SHA256, first 128 bits in hex).

    128 bits keep collisions out of reach; the salt must stay secret, since snowflake ids are
    enumerable and an unsalted hash would be reversible.
    """
    return user_hasher(salt)(user_id)


def user_hasher(salt: bytes) -> Callable[[int], str]:
    """``hash_user`` under one ``salt``, for many users: the HMAC keyed once and copied for
    each user, which costs half of keying it again (a burst of 100,000 reports spent 0.2 s
    of CPU on hashing alone)."""
    if not salt:
        raise ValueError("an empty salt would make user hashes reversible")
    keyed = hmac.new(salt, digestmod=hashlib.sha256)

    def hash_one(user_id: int) -> str:
        mac = keyed.copy()
        mac.update(b"%d" % int(user_id))
        return mac.digest()[:16].hex()

    return hash_one


def account_created_at(user_id: int) -> datetime:
    """When a Discord account was created: the top bits of its snowflake are ms since 2015."""
    return datetime.fromtimestamp(_created_ms(user_id) / 1000, tz=timezone.utc)


def _created_ms(user_id: int) -> int:
    """The top bits of a snowflake: ms since 2015, here since 1970."""
    if user_id <= 0:
        raise ValueError("not a Discord snowflake")
    return (user_id >> 22) + DISCORD_EPOCH_MS


def account_weight(user_id: int, now: datetime) -> float:
    """1.0, or 0.5 for an account younger than a day."""
    return account_weigher(now)(user_id)


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def account_weigher(now: datetime) -> Callable[[int], float]:
    """``account_weight`` at ``now`` for many users: the age limit becomes one snowflake-time
    threshold in whole microseconds (exact), so a burst of thousands of reports does not build
    a datetime per user."""
    young_after_us = (now - NEW_ACCOUNT_AGE - _UNIX_EPOCH) // timedelta(microseconds=1)

    def weight(user_id: int) -> float:
        return NEW_ACCOUNT_WEIGHT if _created_ms(user_id) * 1000 > young_after_us else 1.0

    return weight


def should_count(
    last_counted_at: datetime | None, now: datetime, window: timedelta = RATE_LIMIT_WINDOW
) -> bool:
    """Whether a user's report counts: not if they had one counted for this service within
    ``window`` (a repeat is thanked, not counted). A last time in the future (clock skew)
    does not count either."""
    return last_counted_at is None or now - last_counted_at >= window


@dataclass(frozen=True, slots=True)
class Report:
    """One counted report; ``user_hash`` comes from ``hash_user``, never the raw id."""

    service_id: str
    guild_id: int
    user_hash: str
    problem: str
    at: datetime
    weight: float = 1.0
    country: str | None = None  # the reporting guild's country (ISO 3166 alpha-2), if it set one

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(f"unknown problem category: {self.problem!r}")
        if not self.weight > 0:
            raise ValueError("a report's weight must be positive")


# --- 5-minute buckets -----------------------------------------------------------------------


@dataclass(slots=True)
class Bucket:
    """Weighted reports in one 5-minute bucket of one service."""

    total: float = 0.0
    by_guild: dict[int, float] = field(default_factory=dict)
    by_problem: dict[str, float] = field(default_factory=dict)
    #: country → guild → weight (reports of guilds that set no country are in no country)
    by_country: dict[str, dict[int, float]] = field(default_factory=dict)

    def add(self, guild_id: int, problem: str, weight: float, country: str | None = None) -> None:
        self.total += weight
        self.by_guild[guild_id] = self.by_guild.get(guild_id, 0.0) + weight
        self.by_problem[problem] = self.by_problem.get(problem, 0.0) + weight
        if country:
            guilds = self.by_country.setdefault(country, {})
            guilds[guild_id] = guilds.get(guild_id, 0.0) + weight


@dataclass(slots=True)
class BucketCounts:
    """One service's buckets keyed by bucket start (UTC)."""

    buckets: dict[datetime, Bucket] = field(default_factory=dict)

    def add(self, report: Report) -> None:
        start = bucket_start(report.at)
        bucket = self.buckets.get(start)
        if bucket is None:
            bucket = self.buckets[start] = Bucket()
        bucket.add(report.guild_id, report.problem, report.weight, report.country)

    def get(self, start: datetime) -> Bucket | None:
        return self.buckets.get(start)

    def totals(self) -> dict[datetime, float]:
        """Bucket start → weighted total: what is kept for the baseline after raw reports go."""
        return {start: b.total for start, b in self.buckets.items()}

    @classmethod
    def from_reports(cls, reports: Iterable[Report]) -> BucketCounts:
        counts = cls()
        for report in reports:
            counts.add(report)
        return counts


# --- statistics -----------------------------------------------------------------------------


def poisson_tail(k: float, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam), summed in log space (no overflow, no scipy).

    A weighted count ``k`` is rounded down (the larger, more cautious probability). Terms are
    summed outward from ``k`` (up if ``k`` is above the mean, else the complement down), and
    they shrink geometrically away from the mean, so about ``√lam`` terms suffice even for huge
    means.
    """
    n = math.floor(k + _EPS)
    if n <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_lam = math.log(lam)

    def log_pmf(i: int) -> float:
        return i * log_lam - lam - math.lgamma(i + 1)

    if n > lam:  # upper tail directly: i = n, n+1, … (terms decreasing)
        first = log_pmf(n)
        total, i, term = 0.0, n, 1.0
        while term > 1e-17 * total or total == 0.0:
            term = math.exp(log_pmf(i) - first)
            total += term
            i += 1
        return min(1.0, math.exp(first + math.log(total)))
    # complement: 1 - P(X ≤ n-1), lower terms i = n-1, n-2, … 0 (decreasing downward)
    first = log_pmf(n - 1)
    total, i, term = 0.0, n - 1, 1.0
    while i >= 0 and (term > 1e-17 * total or total == 0.0):
        term = math.exp(log_pmf(i) - first)
        total += term
        i -= 1
    return max(0.0, 1.0 - math.exp(first + math.log(total)))


def counted_total(by_guild: Iterable[float], max_share: float) -> float:
    """The largest ``E`` with ``Σ min(c_g, max_share·E) = E`` (see the module docstring).

    With counts sorted c1 ≥ c2 ≥ …, if the top ``j`` guilds are capped then
    ``E = rest_j / (1 - j·max_share)``; the first ``j`` consistent with the caps is the answer.
    Fewer than ``1/max_share`` guilds give 0.
    """
    counts = sorted((c for c in by_guild if c > 0), reverse=True)
    if not 0 < max_share <= 1:
        raise ValueError("max_share must be in (0, 1]")
    rest = sum(counts)
    for j in range(len(counts)):
        if j * max_share >= 1 - _EPS:
            break
        e = rest / (1 - j * max_share)
        cap = max_share * e
        if counts[j] <= cap + _EPS and (j == 0 or counts[j - 1] >= cap - _EPS):
            return e
        rest -= counts[j]
    return 0.0


# --- assessment -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrowdConfig:
    window_buckets: int = 3  # 15 minutes
    min_count: float = 10.0
    multiple: float = 3.0
    p_value: float = 1e-4
    possible_min_count: float = 5.0
    possible_multiple: float = 2.0
    possible_p_value: float = 1e-2
    min_guilds: int = 3
    country_min_guilds: int = 2  # servers that must report from a country before it is named
    max_guild_share: float = 1 / 3
    hold: float = 0.75  # a level is kept down to this fraction of its min count and multiple
    lookback: timedelta = timedelta(hours=12)  # how far back to look for ``since`` cold

    def __post_init__(self) -> None:
        if self.window_buckets < 1 or self.min_guilds < 1:
            raise ValueError("window_buckets and min_guilds must be at least 1")
        if not 0 < self.max_guild_share <= 1:
            raise ValueError("max_guild_share must be in (0, 1]")
        if not 0 < self.hold <= 1:
            raise ValueError("hold must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class _Window:
    counted: float
    usual: float
    guilds: int
    top_problem: str | None
    top_share: float | None
    level: CrowdLevel
    starts: tuple[datetime, ...]  # the buckets that contributed reports
    countries: tuple[str, ...] = ()  # reporting countries, most reports first


def _window(
    buckets: BucketCounts, baseline: Baseline, now: datetime, cfg: CrowdConfig, live: bool = True
) -> _Window:
    """The window ``(now - 15 min, now]``. Live, the current bucket holds only what arrived up
    to ``now`` and counts in full; replaying history (``live=False``), buckets are complete and
    the current one is prorated like the oldest. The usual count is always prorated by time."""
    current = bucket_start(now)
    elapsed = (now - current) / BUCKET  # 0 ≤ elapsed < 1
    # (bucket start, share of its reports counted, share of its time inside the window)
    parts = [(current, 1.0 if live else elapsed, elapsed)]
    parts += [(current - i * BUCKET, 1.0, 1.0) for i in range(1, cfg.window_buckets)]
    parts.append((current - cfg.window_buckets * BUCKET, 1.0 - elapsed, 1.0 - elapsed))

    guilds: dict[int, float] = {}
    problems: dict[str, float] = {}
    by_country: dict[str, dict[int, float]] = {}
    usual = 0.0
    for start, count_share, time_share in parts:
        usual += time_share * baseline.expected(start)
        bucket = buckets.get(start)
        if bucket is None or count_share <= 0:
            continue
        for g, w in bucket.by_guild.items():
            guilds[g] = guilds.get(g, 0.0) + count_share * w
        for p, w in bucket.by_problem.items():
            problems[p] = problems.get(p, 0.0) + count_share * w
        for c, per_guild in bucket.by_country.items():
            into = by_country.setdefault(c, {})
            for g, w in per_guild.items():
                into[g] = into.get(g, 0.0) + count_share * w

    counted = counted_total(guilds.values(), cfg.max_guild_share)
    distinct = sum(1 for w in guilds.values() if w > 0)
    raw = sum(problems.values())
    top, top_share = None, None
    if raw > 0:
        top = min(problems, key=lambda p: (-problems[p], p))
        top_share = problems[top] / raw
    level = CrowdLevel.NONE
    if distinct >= cfg.min_guilds:
        tail = poisson_tail(counted, usual)
        if counted >= cfg.min_count and counted >= cfg.multiple * usual and tail < cfg.p_value:
            level = CrowdLevel.PROBLEMS
        elif (
            counted >= cfg.possible_min_count
            and counted >= cfg.possible_multiple * usual
            and tail < cfg.possible_p_value
        ):
            level = CrowdLevel.POSSIBLE
    starts = tuple(start for start, count_share, _ in parts if count_share > 0)
    return _Window(counted, usual, distinct, top, top_share, level, starts, _countries(by_country, cfg))


def _countries(by_country: dict[str, dict[int, float]], cfg: CrowdConfig) -> tuple[str, ...]:
    """The reporting countries, most reports first, under anti-brigading rules like the
    count's: a country needs reports from ``country_min_guilds`` servers, and its loudest server
    counts for no more than all its other servers together — so one server can neither make a
    country appear nor make it lead."""
    weights: dict[str, float] = {}
    for country, per_guild in by_country.items():
        values = [w for w in per_guild.values() if w > 0]
        if len(values) < cfg.country_min_guilds:
            continue
        loudest = max(values)
        others = sum(values) - loudest
        weights[country] = others + min(loudest, others)
    return tuple(sorted((c for c, w in weights.items() if w > 0), key=lambda c: (-weights[c], c)))


_RANK = {CrowdLevel.NONE: 0, CrowdLevel.POSSIBLE: 1, CrowdLevel.PROBLEMS: 2}


def _held(w: _Window, previous: CrowdLevel, cfg: CrowdConfig) -> CrowdLevel:
    """The level of ``w`` after hysteresis: ``previous`` (or POSSIBLE below PROBLEMS) is kept
    while the count stays at or above ``hold`` × that level's min count and multiple and still
    passes its Poisson test."""
    if w.guilds < cfg.min_guilds:
        return w.level

    def holds(min_count: float, multiple: float, p_value: float) -> bool:
        return (
            w.counted >= cfg.hold * min_count
            and w.counted >= cfg.hold * multiple * w.usual
            and poisson_tail(w.counted, w.usual) < p_value
        )

    held = CrowdLevel.NONE
    if previous is CrowdLevel.PROBLEMS and holds(cfg.min_count, cfg.multiple, cfg.p_value):
        held = CrowdLevel.PROBLEMS
    elif previous is not CrowdLevel.NONE and holds(cfg.possible_min_count, cfg.possible_multiple, cfg.possible_p_value):
        held = CrowdLevel.POSSIBLE
    return max(w.level, held, key=_RANK.__getitem__)


def _onset(buckets: BucketCounts, baseline: Baseline, w: _Window, cfg: CrowdConfig) -> datetime:
    """The start of the earliest bucket of an elevated window that ran above usual."""
    for start in sorted(w.starts):
        bucket = buckets.get(start)
        if bucket is not None and bucket.total >= cfg.possible_multiple * baseline.expected(start):
            return start
    return max(w.starts)


def assess(
    buckets: BucketCounts,
    baseline: Baseline,
    now: datetime,
    config: CrowdConfig | None = None,
    previous: CrowdSignal | None = None,
) -> CrowdSignal:
    """The crowd signal for one service at ``now``; ``buckets`` hold the reports up to ``now``.

    ``previous`` (the last signal, if recent) drives the hysteresis of the module docstring.
    ``since`` (when the spike began) carries over from ``previous`` while the level stays above
    NONE. Without ``previous`` (e.g. after a restart) it is found by re-assessing the earlier
    5-minute boundaries back to one where the level was NONE (at most ``lookback``); there is
    no hysteresis then, as nothing tells which level was held.
    """
    cfg = config or CrowdConfig()
    w = _window(buckets, baseline, now, cfg)
    if previous is not None:
        w = replace(w, level=_held(w, previous.level, cfg))
    since: datetime | None = None
    if w.level is not CrowdLevel.NONE:
        if previous is not None and previous.level is not CrowdLevel.NONE and previous.since:
            since = previous.since
        elif previous is not None:
            since = _onset(buckets, baseline, w, cfg)
        else:
            first = w
            t = bucket_start(now)
            if t == now:
                t -= BUCKET
            while now - t <= cfg.lookback:
                earlier = _window(buckets, baseline, t, cfg, live=False)
                if earlier.level is CrowdLevel.NONE:
                    break
                first, t = earlier, t - BUCKET
            since = _onset(buckets, baseline, first, cfg)
    return CrowdSignal(
        level=w.level,
        recent=round(w.counted),
        usual=w.usual,
        window=cfg.window_buckets * BUCKET,
        distinct_guilds=w.guilds,
        top_problem=w.top_problem,
        top_problem_share=w.top_share,
        since=since,
        countries=w.countries,
    )


@dataclass(slots=True)
class Peak:
    """The highest crowd count of an incident and when it was first reached."""

    count: int = 0
    at: datetime | None = None

    def update(self, count: int, at: datetime) -> bool:
        """Keep ``count`` if it beats the peak (ties keep the earlier time); True if it did."""
        if count > self.count:
            self.count, self.at = count, at
            return True
        return False


# -- "works for me" -------------------------------------------------------------------------

#: "works for me" answers weigh against the crowd level from this share of all answers …
WORKS_DAMPEN_SHARE = 0.5
#: … and from this many of them (one user cannot cancel an outage)
WORKS_MIN = 3


def weigh_works(signal: CrowdSignal, works: int) -> CrowdSignal:
    """The signal beside the users who said it works for them (StatusGator's Yes/No poll):
    counted and carried on the signal, and, when they are at least ``WORKS_MIN`` and
    ``WORKS_DAMPEN_SHARE`` of everyone who answered in the window, the level one step lower
    (problems → possible, possible → none). Only the crowd's level moves, so an outage our
    probes or the official page confirm is untouched: this balances a crowd-only alert.

    ======================  ==============  =================
    reports / works         level before    level after
    ======================  ==============  =================
    any / 0–2               any             unchanged
    40 / 10 (20 %)          problems        problems
    40 / 40 (50 %)          problems        possible
    8 / 12 (60 %)           possible        none
    ======================  ==============  =================
    """
    works = max(0, works)
    if works == 0:
        return signal
    answered = works + max(0, signal.recent)
    if works < WORKS_MIN or works / answered < WORKS_DAMPEN_SHARE or signal.level is CrowdLevel.NONE:
        return replace(signal, works=works)
    level = CrowdLevel.POSSIBLE if signal.level is CrowdLevel.PROBLEMS else CrowdLevel.NONE
    return replace(signal, works=works, level=level, since=signal.since if level is not CrowdLevel.NONE else None)
