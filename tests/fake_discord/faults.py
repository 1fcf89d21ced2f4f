"""Faults and limits: injected errors and 429s, Discord's per-route and global rate limits
with their real headers, and the invalid-request ban. Add a new fault here."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.fake_discord.records import Fault, RateLimits
from tests.fake_discord.wire import error_body, json_response


class FaultsMixin:
    """Part of ``FakeDiscord`` (see the package docstring); its state lives on the instance."""

    # ------------------------------------------------------------------ faults and limits

    def inject(
        self,
        route: str,
        status: int,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Queue a response for requests matching ``route``: "POST /channels/123/messages" (a path)
        or "POST /channels/{channel_id}/messages" (a template); method "*" matches any."""
        self._faults.append((route, Fault(status, body, dict(headers or {}), delay, times)))

    def hold(self, route: str, gate: "asyncio.Event", *, times: int = 1) -> None:
        """Hold matching requests on the wire — received, not answered — until ``gate`` is set,
        then answer them normally (a slow Discord). ``holding`` counts those held right now."""
        self._faults.append((route, Fault(None, gate=gate, times=times)))

    def inject_error(self, route: str, name: str, *, times: int = 1) -> None:
        """Queue one of :data:`ERRORS` by name ("missing_access", "unknown_channel", "server_error"…)."""
        status, body = error_body(name)
        self.inject(route, status, body, times=times)

    def inject_429(
        self,
        route: str,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
        times: int = 1,
        via: bool = True,
        delay: float = 0.0,
        global_in_body: bool | None = None,
    ) -> None:
        """Queue a Discord 429 (``via=False`` imitates a Cloudflare ban, which discord.py won't retry;
        ``global_in_body=False`` says global in the headers only)."""
        headers = self._429_headers(retry_after, is_global=is_global, limit=5, bucket=self._bucket_hash(route))
        if not via:
            headers.pop("Via")
        in_body = is_global if global_in_body is None else global_in_body
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": in_body}
        self.inject(route, 429, body, headers=headers, times=times, delay=delay)

    def set_rate_limits(
        self,
        *,
        global_limit: int | None = None,
        global_window: float = 1.0,
        channel_limit: int | None = None,
        channel_window: float = 5.0,
        invalid_limit: int | None = None,
        invalid_window: float = 600.0,
    ) -> None:
        """Enforce Discord-style limits (e.g. 50 per 1 s globally, 5 per 5 s per channel route,
        a ban after 10,000 invalid requests in 600 s)."""
        self.rate_limits = RateLimits(global_limit, global_window, channel_limit, channel_window,
                                      invalid_limit, invalid_window)
        self._global_rl = [0.0, 0]
        self._channel_rl.clear()

    @staticmethod
    def _bucket_hash(key: str) -> str:
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    @staticmethod
    def _429_headers(retry_after: float, *, is_global: bool, limit: int, bucket: str, scope: str | None = None) -> dict[str, str]:
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Scope": scope or ("global" if is_global else "user"),
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update({
                "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}", "X-RateLimit-Bucket": bucket,
            })
        return headers

    def _note_global_limit(self, response: web.StreamResponse) -> None:
        """A global 429 went out: Discord's global limit is now in force for its
        ``retry_after``, for every request with the bot's token (interactions excepted)."""
        if response.status != 429 or not (
            response.headers.get("X-RateLimit-Global") == "true" or response.headers.get("X-RateLimit-Scope") == "global"
        ):
            return
        try:
            retry_after = float(json.loads(getattr(response, "body", b"") or b"{}").get("retry_after"))
        except (TypeError, ValueError):
            retry_after = float(response.headers.get("Retry-After", "1"))
        self._global_until = max(self._global_until, self.clock() + retry_after)

    def _inside_global_limit(self) -> web.Response | None:
        """Discord's answer to a request sent while a global limit it announced is in force:
        another global 429, counted (``stats["429_inside_global"]``) — a self-inflicted one."""
        remaining = self._global_until - self.clock()
        if remaining <= 0:
            return None
        self.stats["429_inside_global"] += 1
        retry = round(remaining, 3)
        body = {"message": "You are being rate limited.", "retry_after": retry, "global": True}
        return json_response(body, 429, self._429_headers(retry, is_global=True, limit=0, bucket=""))

    def _banned(self) -> bool:
        rl = self.rate_limits
        if rl.invalid_limit is None:
            return False
        while self._invalid_at and self.clock() - self._invalid_at[0] > rl.invalid_window:
            self._invalid_at.popleft()
        return len(self._invalid_at) >= rl.invalid_limit

    def _take_fault(self, method: str, path: str, route: str) -> Fault | None:
        for i, (pattern, fault) in enumerate(self._faults):
            pm, _, pp = pattern.partition(" ")
            if pm not in ("*", method) or pp not in (path, route):
                continue
            fault.times -= 1
            if fault.times <= 0:
                del self._faults[i]
            return fault
        return None

    def _rate_limit(
        self, method: str, route: str, channel_id: int | None, bot_route: bool
    ) -> tuple[web.Response | None, dict[str, str]]:
        """(429 response or None, headers for a successful response)."""
        rl, now = self.rate_limits, self.clock()
        if rl.global_limit and bot_route:
            start, count = self._global_rl
            if now - start >= rl.global_window:
                self._global_rl = [now, 0]
                start, count = now, 0
            if count >= rl.global_limit:
                retry = round(start + rl.global_window - now, 3)
                self.stats["429_global"] += 1
                body = {"message": "You are being rate limited.", "retry_after": retry, "global": True}
                return json_response(body, 429, self._429_headers(retry, is_global=True, limit=rl.global_limit, bucket="")), {}
        headers: dict[str, str] = {}
        if rl.channel_limit and channel_id is not None:
            key = f"{method} {route}"
            bucket = self._channel_rl.setdefault((key, channel_id), [now, 0])
            if now - bucket[0] >= rl.channel_window:
                bucket[:] = [now, 0]
            reset_after = round(bucket[0] + rl.channel_window - now, 3)
            if bucket[1] >= rl.channel_limit:
                self.stats["429_channel"] += 1
                body = {"message": "You are being rate limited.", "retry_after": reset_after, "global": False}
                headers = self._429_headers(reset_after, is_global=False, limit=rl.channel_limit,
                                            bucket=self._bucket_hash(key))
                return json_response(body, 429, headers), {}
            bucket[1] += 1
            headers = {
                "X-RateLimit-Limit": str(rl.channel_limit), "X-RateLimit-Remaining": str(rl.channel_limit - int(bucket[1])),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}", "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": self._bucket_hash(key),
            }
        if rl.global_limit and bot_route:
            self._global_rl[1] += 1
        return None, headers
