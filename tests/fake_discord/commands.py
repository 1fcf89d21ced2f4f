"""REST routes for application commands: validation as Discord does it, global and guild
command stores."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.fake_discord.wire import BODY_KEY, DISCORD_LOCALES, DiscordHTTPError, FormErrors, json_response


class CommandsMixin:
    """Part of ``FakeDiscord`` (see the package docstring); its state lives on the instance."""

    # ------------------------------------------------------------------ REST: application commands

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The synced commands (global when ``guild_id`` is None), as Discord stored them."""
        store = self._global_commands if guild_id is None else self._guild_commands.get(guild_id, {})
        return list(store.values())

    def command(self, name: str, guild_id: int | None = None) -> dict[str, Any]:
        """A synced command by name: the guild's first, then the global one."""
        if guild_id is not None and name in self._guild_commands.get(guild_id, {}):
            return self._guild_commands[guild_id][name]
        return self._global_commands[name]

    def _command_store(self, request: web.Request) -> tuple[int | None, dict[str, dict[str, Any]]]:
        if request.match_info["app_id"] != str(self.application_id):
            raise DiscordHTTPError(json_response({"message": "Unknown Application", "code": 10002}, 404))
        if "guild_id" in request.match_info:
            gid = int(request.match_info["guild_id"])
            if gid not in self.guilds:
                raise DiscordHTTPError.named("missing_access")
            return gid, self._guild_commands.setdefault(gid, {})
        return None, self._global_commands

    def _validate_command(self, errs: FormErrors, path: list[str | int], cmd: dict[str, Any], *, top: bool) -> None:
        ctype = cmd.get("type", 1) if top else 1
        name = cmd.get("name") or ""
        if ctype == 1 and not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower() and ctype == 1:
            errs.add(path + ["name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        desc = cmd.get("description") or ""
        if ctype == 1 and not 1 <= len(desc) <= 100:
            errs.add(path + ["description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
            for loc, text in (cmd.get(key) or {}).items():
                if loc not in DISCORD_LOCALES:
                    errs.add(path + [key, loc], "LOCALE_INVALID", f"Invalid locale: {loc}")
                elif not 1 <= len(text or "") <= limit:
                    errs.add(path + [key, loc], "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {limit} in length.")
        options = cmd.get("options") or []
        if len(options) > 25:
            errs.add(path + ["options"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        seen_optional = False
        for i, opt in enumerate(options):
            if opt.get("type") in (1, 2):
                self._validate_command(errs, path + ["options", i], opt, top=False)
                continue
            self._validate_command(errs, path + ["options", i], {k: v for k, v in opt.items() if k != "options"}, top=False)
            if opt.get("required"):
                if seen_optional:
                    errs.add(path + ["options", i, "required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                             "Required options must be placed before non-required options")
            else:
                seen_optional = True
            choices = opt.get("choices") or []
            if len(choices) > 25:
                errs.add(path + ["options", i, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if choices and opt.get("autocomplete"):
                errs.add(path + ["options", i, "autocomplete"], "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                         "Autocomplete cannot be set with choices")

    def _store_command(self, guild_id: int | None, store: dict[str, dict[str, Any]], cmd: dict[str, Any]) -> dict[str, Any]:
        ctype = int(cmd.get("type", 1))
        key = (guild_id, ctype, cmd["name"])
        cid = self._command_ids.setdefault(key, self.snowflake())
        stored = {
            "id": str(cid), "application_id": str(self.application_id), "version": str(self.snowflake()),
            "type": ctype, "name": cmd["name"], "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""), "description_localizations": cmd.get("description_localizations"),
            "options": cmd.get("options") or [],
            "default_member_permissions": None if cmd.get("default_member_permissions") is None
            else str(cmd["default_member_permissions"]),
            "dm_permission": cmd.get("dm_permission", True), "nsfw": bool(cmd.get("nsfw", False)),
            "contexts": cmd.get("contexts"), "integration_types": cmd.get("integration_types") or [0],
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        store[cmd["name"]] = stored
        return stored

    async def _get_commands(self, request: web.Request) -> web.Response:
        _, store = self._command_store(request)
        return json_response(list(store.values()))

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild_id, store = self._command_store(request)
        body = request[BODY_KEY] or []
        errs = FormErrors()
        names = set()
        for i, cmd in enumerate(body):
            self._validate_command(errs, [i], cmd, top=True)
            key = (cmd.get("type", 1), cmd.get("name"))
            if key in names:
                errs.add([i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
            names.add(key)
        if len(body) > 100:
            errs.add([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        if errs:
            raise DiscordHTTPError(errs.response())
        store.clear()
        return json_response([self._store_command(guild_id, store, cmd) for cmd in body])

    async def _post_command(self, request: web.Request) -> web.Response:
        guild_id, store = self._command_store(request)
        errs = FormErrors()
        self._validate_command(errs, [], request[BODY_KEY], top=True)
        if errs:
            raise DiscordHTTPError(errs.response())
        return json_response(self._store_command(guild_id, store, request[BODY_KEY]), 201)

    def _find_command(self, request: web.Request) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        _, store = self._command_store(request)
        for cmd in store.values():
            if cmd["id"] == request.match_info["command_id"]:
                return store, cmd
        raise DiscordHTTPError.named("unknown_command")

    async def _get_command(self, request: web.Request) -> web.Response:
        return json_response(self._find_command(request)[1])

    async def _patch_command(self, request: web.Request) -> web.Response:
        store, cmd = self._find_command(request)
        cmd.update({k: v for k, v in (request[BODY_KEY] or {}).items() if k in cmd and k not in ("id", "application_id")})
        return json_response(cmd)

    async def _delete_command(self, request: web.Request) -> web.Response:
        store, cmd = self._find_command(request)
        del store[cmd["name"]]
        return web.Response(status=204)
