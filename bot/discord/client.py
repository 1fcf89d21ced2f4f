"""The Discord bot, and everything ``python -m bot run`` wires together.

Resources are created once in ``run_bot`` and handed in (python-discord/bot style, no
globals): the database connection, the catalog, one ``HttpClient``, the ``Monitor``, the
``Scheduler``, the ``CrowdService`` and the ``DeliveryWorker``. Cogs reach them through
``bot.runtime``.

Order matters:

1. ``init_db`` applies migrations and opens the connections *before* any task is created:
   tortoise keeps its connection in a context variable that tasks copy when they are created.
2. ``configure_api_base`` before ``bot.start``; ``adopt_gateway_url`` in ``setup_hook``
   (``bot/discord_api.py``): REST and gateway go where ``DISCORD_API_BASE`` says.
3. Monitoring starts at once (an outage while Discord is unreachable still becomes deliveries
   in the outbox) in the process elected as the poller (``bot/runtime/leader.py``: with
   several processes on PostgreSQL exactly one polls and detects; alone, this one); the
   delivery worker starts once the gateway is ready, in every process.
   ``SHARD_COUNT``/``SHARD_IDS`` split the gateway shards between processes (``SHARD_IDS=none``:
   no gateway, REST only); ``REDIS_URL`` shares Discord's global limit and the send pace.
4. SIGTERM/SIGINT stop the scheduler and the worker and wait for them (the worker lets the
   sends on the wire finish and releases the rest, ``DRAIN_TIMEOUT``), then close the bot —
   discord.py's HTTP session — the HTTP client and the database, in that order. Closing the
   bot first would fail every send in flight with "Session is closed" and cost it an attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Coroutine

import discord
from discord.ext import commands

from bot.clock import utcnow
from bot.ops import metrics
from bot.catalog import Catalog, load_catalog
from bot.discord.cogs import extensions
from bot.discord.api_base import adopt_gateway_url, configure_api_base
from bot.discord.frames import take_turns
from bot.discord.ratelimit import GlobalLimit
from bot.i18n import Translator
from bot.net.client import HttpClient
from bot.services.custom import CustomServices
from bot.services.guilds import GuildService
from bot.services.status import LIVE_AFTER, CrowdView, MonitorView, NationalView, StatusService, published_components
from bot.services.subscriptions import SubscriptionService
from bot.settings import Settings, redact_url
from bot.sources.base import Fetcher
from bot.discord.tree import OutageTree

if TYPE_CHECKING:
    from bot.services.crowd import CrowdService
    from bot.runtime.monitor import Monitor
    from bot.discord.delivery import DeliveryWorker
    from bot.runtime.scheduler import Scheduler
    from bot.runtime.ioda import IodaPoller
    from bot.runtime.leader import Leadership

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 10.0
#: how long the delivery worker lets sends on the wire finish at shutdown (inside SHUTDOWN_TIMEOUT)
DRAIN_TIMEOUT = 8.0


def intents() -> discord.Intents:
    """Guilds only: their channels, roles and our own member, for permission checks.
    Interactions (commands, buttons, autocomplete) reach a bot whatever its intents, and
    everything else it does is REST. Every other intent is traffic a public bot would parse for
    nothing: ``Intents.default()`` also subscribes to every message, edit, reaction, typing
    indicator and voice-state change in every guild it is in (message events arrive even
    without the privileged message content)."""
    return discord.Intents(guilds=True)


@dataclass
class Runtime:
    """Everything the commands and background tasks share, made once by ``run_bot``."""

    settings: Settings
    catalog: Catalog
    fetcher: Fetcher
    guilds: GuildService
    subscriptions: SubscriptionService
    status: StatusService
    custom: CustomServices
    monitor: "Monitor | MonitorView | None" = None
    crowd: "CrowdService | CrowdView | None" = None
    scheduler: "Scheduler | None" = None
    #: the poller election (``bot.runtime.leader``); None outside ``run``
    leadership: "Leadership | None" = None
    delivery: "DeliveryWorker | None" = None
    clock: Callable[[], datetime] = utcnow
    #: replace the command set on Discord at start (tests and production: yes)
    sync_commands: bool = True
    background: list[asyncio.Task[Any]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        settings: Settings,
        catalog: Catalog,
        fetcher: Fetcher,
        *,
        monitor: "Monitor | MonitorView | None" = None,
        crowd: "CrowdService | CrowdView | None" = None,
        clock: Callable[[], datetime] = utcnow,
        national: "NationalView | None" = None,
    ) -> "Runtime":
        """The services over the given resources (the /isitdown data counts as stale after
        three poll intervals, at least three minutes)."""
        stale = max(LIVE_AFTER, timedelta(seconds=3 * settings.poll_interval))
        status = StatusService(
            catalog, fetcher, monitor=monitor, crowd=crowd, stale_after=stale,
            allow_private=settings.allow_private_targets, national=national,
        )
        custom = CustomServices(
            catalog, fetcher, per_guild=settings.custom_sources_per_guild, allow_private=settings.allow_private_targets
        )
        status.custom = custom
        subscriptions = SubscriptionService(
            catalog, custom, components_of=lambda sid: published_components(monitor, sid) or custom.published(sid),
            hubs=settings.follow_hubs,
        )
        return cls(
            settings=settings, catalog=catalog, fetcher=fetcher, guilds=GuildService(),
            subscriptions=subscriptions, status=status, custom=custom, monitor=monitor, crowd=crowd, clock=clock,
        )


class OutageBot(commands.AutoShardedBot):
    """The Discord client: slash commands only, no privileged intents.

    ``AutoShardedBot`` asks ``GET /gateway/bot`` for its first connection; ``adopt_gateway_url``
    makes that answer the default for reconnects too (a plain ``Bot`` would dial Discord's
    public gateway directly, bypassing ``DISCORD_API_BASE``)."""

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        kwargs.setdefault("intents", intents())
        kwargs.setdefault("help_command", None)
        kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
        # a limit longer than this (an announcement channel's hourly publish budget) raises
        # discord.RateLimited for the outbox to reschedule, instead of sleeping inside a request
        kwargs.setdefault("max_ratelimit_timeout", 30.0)
        super().__init__(command_prefix=commands.when_mentioned, tree_cls=OutageTree, **kwargs)
        take_turns(self.http)  # a burst of GUILD_CREATEs at start-up: one loop turn per frame
        self.runtime = runtime
        self.connected = asyncio.Event()
        assert isinstance(self.tree, OutageTree)
        self.tree.translator_for = self.translator_for

    async def setup_hook(self) -> None:
        await adopt_gateway_url(self.http)
        for name in extensions():
            await self.load_extension(name)
        if self.runtime.sync_commands:
            synced = await self.tree.sync()
            log.info("synced %d slash commands: %s", len(synced), ", ".join(c.name for c in synced))

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guilds", self.user, len(self.guilds))
        self.connected.set()

    async def translator_for(self, interaction: discord.Interaction, lang: str | None = None) -> Translator:
        """The guild's translator (in ``lang`` when the answer's language is fixed otherwise)."""
        prefs = await self.runtime.guilds.get(interaction.guild_id)
        return prefs.translator(lang)


# --- python -m bot run -----------------------------------------------------------------------


async def run_bot(settings: Settings, catalog: Catalog | None = None) -> int:
    """Run the bot until SIGTERM/SIGINT (0) or a fatal error (1; a rejected token: 2).
    ``catalog``: already loaded (``python -m bot run`` checks it first), else read here."""
    from bot.services.crowd import CrowdService
    from bot.db.setup import close_db, init_db
    from bot.ops.logs import setup_logging
    from bot.detect.upstream import Upstreams
    from bot.runtime.monitor import Monitor
    from bot.discord.delivery import DeliveryWorker
    from bot.discord.ratelimit import InvalidRequests, LocalGlobalLimit, discord_http_trace
    from bot.db.leases import DatabaseLeases
    from bot.runtime.leader import Leadership
    from bot.runtime.scheduler import Scheduler, SchedulerConfig, default_owner
    from bot.runtime.ioda import IodaPoller
    from bot.services.guilds import countries_that_matter

    from bot.ops.looplag import LoopLag
    from bot.ops.gcpause import GcPauses, fewer_full_collections, freeze

    token = settings.require_token()
    setup_logging(settings.log_format, secrets=[token], database_url=settings.database_url)
    lag_watcher = asyncio.create_task(LoopLag().watch(), name="loop-lag")  # start-up stalls count too
    gc_pauses = GcPauses().install()
    # from the start, not only once settled: loading the catalog and state, then the gateway's
    # burst of guilds, build hundreds of thousands of objects that all stay alive, and full
    # collections over them at Python's default pace stopped the loop for 70-80 ms each
    fewer_full_collections()
    log.info("applying migrations to %s", redact_url(settings.database_url))
    await init_db(settings.database_url)  # before any task: tortoise's connection is a contextvar
    if not settings.shared_database:
        log.info("SQLite keeps this process alone: several `run` processes (SHARD_IDS) need PostgreSQL")
    fetcher = HttpClient(allow_private=settings.allow_private_targets)
    bot: OutageBot | None = None
    scheduler: Scheduler | None = None
    shared_limits: Any = None
    tasks: list[asyncio.Task[Any]] = []
    stop = asyncio.Event()
    try:
        # parsing thousands of services takes a while: in a thread, the loop (and the lag watcher,
        # and later the gateway's heartbeats) keeps running
        if catalog is None:
            catalog = await asyncio.to_thread(load_catalog, settings.services_file)
        await fetcher.start()
        crowd = CrowdService(catalog)
        await crowd.start()
        await crowd.preload(utcnow())  # bulk, not a few queries per service at its first poll
        ioda: IodaPoller | None = None
        if settings.ioda_url:  # national internet connectivity (IODA) beside alerts and /isitdown
            ioda = IodaPoller(fetcher, countries_that_matter, api=settings.ioda_url, interval=settings.ioda_interval)
            await ioda.load()
        monitor = Monitor(
            crowd_provider=crowd.signal, upstreams=Upstreams.of(catalog.services),
            internet=ioda.context if ioda is not None else None,
        )
        await monitor.load(utcnow())
        owner = default_owner()
        leadership = Leadership(DatabaseLeases(), owner, lease=settings.leader_lease)
        scheduler = Scheduler(
            catalog, monitor, fetcher, SchedulerConfig.from_settings(settings, owner=owner),
            gate=lambda: leadership.leading,
        )
        runtime = Runtime.build(settings, catalog, fetcher, monitor=monitor, crowd=crowd, national=ioda)
        runtime.scheduler = scheduler
        runtime.leadership = leadership
        runtime.sync_commands = settings.shard_ids is None or 0 in settings.shard_ids  # one process syncs
        await runtime.custom.load()  # status pages typed by users join the catalog before the scheduler syncs
        runtime.custom.listeners.append(scheduler)

        async def elected() -> None:  # what the last poller left in the database is ours now
            if settings.shared_database:  # (on SQLite this process is alone: memory is the truth)
                await monitor.load(utcnow())
            await runtime.custom.adopt_stored()
            await scheduler.take_over()

        leadership.on_elected = elected
        hubs = await runtime.subscriptions.sync_hubs()
        if hubs:
            log.info("follow delivery: %d hub announcement channels (FOLLOW_HUBS)", hubs)

        configure_api_base(settings.discord_api_base)
        # one global limit and one pace for every send: this process's, or with REDIS_URL shared
        # by every process behind the token (Discord counts its limit per bot)
        global_limit: GlobalLimit = LocalGlobalLimit()
        pacer: Any = None
        if settings.redis_url:
            from bot.discord.shared_limit import connect_shared_limits

            try:
                shared_limits = await connect_shared_limits(
                    settings.redis_url, namespace=token_namespace(token), rate=SEND_RATE, burst=1,
                )
            except ConnectionError as unreachable:  # one clear line, no traceback; a restart may find it up
                log.error("%s", unreachable)
                return 1
            global_limit, pacer = shared_limits.global_limit, shared_limits.pacer
            log.info("Discord's global limit and the send pace are shared through Redis")
        shards: dict[str, Any] = {}
        if settings.shard_count is not None:
            shards["shard_count"] = settings.shard_count
            if settings.shard_ids:
                shards["shard_ids"] = list(settings.shard_ids)
        bot = OutageBot(runtime, http_trace=discord_http_trace(global_limit, InvalidRequests()), **shards)
        metrics.bind_gateway_latency(lambda: bot.latency)
        metrics.install_discord_429_counter()
        delivery = DeliveryWorker(
            bot, catalog, drain_timeout=DRAIN_TIMEOUT, global_limit=global_limit, pacer=pacer, owner=owner,
            rate_per_s=SEND_RATE, charts=crowd.event_series,
        )
        runtime.delivery = delivery

        async def wake_delivery(_events: list[Any]) -> None:
            delivery.wake()

        monitor.on_events = wake_delivery
        _install_signal_handlers(stop)
        freeze("loaded")  # the catalog, detector states, baselines: alive as long as the process

        def spawn(coro: Coroutine[Any, Any, Any], name: str) -> None:
            task = asyncio.create_task(_guarded(coro, name), name=name)
            tasks.append(task)

        def leading() -> bool:
            return leadership.leading

        spawn(leadership.run(stop), "leadership")
        spawn(_freeze_when_settled(bot, scheduler, stop), "gc-freeze")
        spawn(scheduler.run(), "scheduler")
        spawn(_keep_up(leadership, monitor, runtime.custom, settings.poll_interval, stop), "keep-up")
        spawn(_deliver_when_ready(bot, delivery, stop), "delivery")
        spawn(crowd.run_upkeep(stop, gate=leading), "crowd-upkeep")
        if settings.shared_database:  # reports taken by other processes reach this one's counts
            spawn(crowd.follow_others(stop), "crowd-catch-up")
        if ioda is not None:
            spawn(ioda.run(stop, gate=leading), "ioda")
        if settings.health_port:
            def stopped_tasks() -> list[str]:
                return [t.get_name() for t in tasks if t.done() and not stop.is_set()]

            spawn(_health_server(settings, bot, monitor, stop, stopped_tasks, ioda, leadership), "health")
        runtime.background = tasks

        if settings.connects_gateway:
            bot_task = asyncio.create_task(bot.start(token, reconnect=True), name="discord")
        else:
            log.info("SHARD_IDS=none: no gateway here; this process sends deliveries and polls when elected")
            bot_task = asyncio.create_task(_without_gateway(bot, token), name="discord")
        stopper = asyncio.create_task(stop.wait(), name="stop")
        done, _ = await asyncio.wait({bot_task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if bot_task in done:
            stopper.cancel()
            exc = bot_task.exception()
            if isinstance(exc, discord.LoginFailure):
                log.error("Discord rejected DISCORD_TOKEN: check the bot token in the developer portal")
                return 2
            if exc is not None:
                log.error("the Discord client stopped", exc_info=exc)
                return 1
            return 0
        log.info("stopping (signal received)")
        return 0
    finally:
        stop.set()
        lag_watcher.cancel()
        gc_pauses.uninstall()
        _remove_signal_handlers()
        await _shutdown(bot, scheduler, tasks)
        if shared_limits is not None:
            await shared_limits.aclose()
        await fetcher.close()
        await close_db()


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: the outbox's sends per second, under Discord's global 50 (shared by all processes with REDIS_URL)
SEND_RATE = 48.0


def token_namespace(token: str) -> str:
    """A name for this bot's shared keys in Redis that does not reveal its token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


async def _freeze_when_settled(bot: OutageBot, scheduler: "Scheduler", stop: asyncio.Event, wait_sync: float = 60.0) -> None:
    """Once connected (the guild and channel cache filled) and the scheduler synced (its slots
    built; a process that is not the poller does not sync, so at most ``wait_sync`` seconds),
    freeze what start-up built out of later garbage collections (``bot.ops.gcpause``). Then
    waits for the stop: a background task that ends counts as dead on ``/healthz``."""
    from bot.ops.gcpause import freeze

    await bot.connected.wait()
    waited = 0.0
    while not scheduler.synced and waited < wait_sync and not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        waited += 1.0
    if not stop.is_set():
        freeze("settled")
    await stop.wait()


async def _without_gateway(bot: OutageBot, token: str) -> None:
    """``SHARD_IDS=none``: log in for REST only (deliveries, publishing) and never return."""
    await bot.login(token)
    bot.connected.set()
    await asyncio.Event().wait()


async def _keep_up(
    leadership: "Leadership", monitor: "Monitor", custom: CustomServices, every: float, stop: asyncio.Event
) -> None:
    """Every poll interval: status pages stored by another process join this one, and a
    process that is not the poller reads what the poller wrote, so its ``/isitdown`` answers
    are at most one interval behind."""
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        try:
            await custom.adopt_stored()
            if not leadership.leading:
                await monitor.load(utcnow())
        except Exception:  # the database is away: next interval
            log.exception("could not read what the poller wrote")


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows / not main thread
            loop.add_signal_handler(sig, stop.set)


def _remove_signal_handlers() -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)


async def _guarded(coro: Coroutine[Any, Any, Any], name: str) -> None:
    """A background task that logs its failure instead of dying silently."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background task %s failed", name)


async def _deliver_when_ready(bot: OutageBot, delivery: "DeliveryWorker", stop: asyncio.Event) -> None:
    """Send pending deliveries (from before a restart first) once the gateway is up."""
    waiter = asyncio.create_task(bot.connected.wait())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    stopper.cancel()
    if not stop.is_set():
        from bot.discord.follow import check_hubs

        for problem in await check_hubs(bot, [hub.channel_id for hub in bot.runtime.subscriptions.hubs]):
            log.error("%s", problem)
        await delivery.run_forever(stop)


async def _health_server(
    settings: Settings, bot: OutageBot, monitor: "Monitor", stop: asyncio.Event, stopped_tasks: Callable[[], list[str]],
    ioda: "IodaPoller | None" = None, leadership: "Leadership | None" = None,
) -> None:
    import time

    from bot.ops.health import HealthChecks, start_health_server

    def last_poll() -> datetime | float | None:  # a process that is not the poller is not late
        return monitor.last_poll_at if leadership is None or leadership.leading else time.time()

    def gateway() -> bool:
        return (bot.is_ready() or not settings.connects_gateway) and not bot.is_closed()

    def poller() -> dict[str, Any]:
        return {"leading": leadership is not None and leadership.leading, "shards": settings.shard_ids}

    checks = HealthChecks(
        gateway=gateway,
        last_poll=last_poll,
        poll_interval=settings.poll_interval,
        info={"monitor": monitor.health, "poller": poller} | ({"ioda": ioda.health} if ioda is not None else {}),
        stopped_tasks=stopped_tasks,
    )
    assert settings.health_port is not None
    runner = await start_health_server(settings.health_port, checks, host=settings.health_host)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def _shutdown(bot: OutageBot | None, scheduler: "Scheduler | None", tasks: list[asyncio.Task[Any]]) -> None:
    """``stop`` is set: the background tasks wind down (the delivery worker drains its sends
    through the still-open HTTP session), then the Discord client closes."""
    if scheduler is not None:
        scheduler.stop()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT)
        for task in pending:
            log.warning("background task %s did not stop in time; cancelling it", task.get_name())
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    if bot is not None and not bot.is_closed():
        await bot.close()
