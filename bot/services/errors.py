"""The one exception a user's mistake becomes (pure: no discord import).

A ``UserError`` carries a gettext ``msgid`` and its named placeholders, never finished text:
the Discord layer translates it into the guild's language when it answers.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something the user can fix (unknown service, bad time zone, missing permission)."""

    def __init__(self, msgid: str | tuple[str, str], **kwargs: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.kwargs = kwargs
        #: the language to answer in when the mistake itself tells it (an Arabic query)
        self.lang: str | None = kwargs.pop("_lang", None)

    def __repr__(self) -> str:
        return f"UserError({self.msgid!r}, {self.kwargs!r})"
