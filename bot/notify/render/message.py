"""The rendered message — one embed's worth of text in one language — and how several
languages share one Discord message (pure). Every right-to-left message orients its own lines
here (``bot.i18n.orient``), and every message is fitted to Discord's embed limits here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

from bot.i18n import RLM, Translator, is_rtl, orient, translations
from bot.notify import text as tx

if TYPE_CHECKING:
    from bot.catalog import Service


@dataclass(frozen=True, slots=True)
class ServiceNames:
    """What rendering needs to know about a service (from the catalog)."""

    id: str
    name: str
    name_ar: str | None = None
    status_url: str | None = None
    #: the provider whose outage this service's incident most likely comes from
    upstream: ServiceNames | None = None

    @classmethod
    def of(cls, service: Service, *, upstream: Service | None = None) -> ServiceNames:
        """A catalog service's names: in Arabic, the Latin name where the Arabic press writes
        it so (``latin_in_arabic``)."""
        return cls(
            service.id,
            service.name,
            service.display_name("ar"),
            status_url=service.status_url,
            upstream=cls.of(upstream) if upstream is not None else None,
        )

    def for_locale(self, t: Translator) -> str:
        return t.name_digits(self.name_ar or self.name) if t.lang == "ar" else self.name


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One embed's worth of text in one language; the Discord layer turns it into an Embed."""

    title: str
    description: str
    color: int
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    url: str | None = None
    lang: str = "en"
    #: an attached picture shown inside the embed (its file name: "chart-ar.png")
    image: str | None = None

    def __post_init__(self) -> None:
        """Every line of a right-to-left message is oriented here, the one place all embeds
        pass through (see ``bot.i18n`` on direction)."""
        if is_rtl(self.lang):
            set_ = object.__setattr__
            set_(self, "title", orient(self.title, True))
            set_(self, "description", orient(self.description, True))
            set_(self, "footer", orient(self.footer, True))
            set_(self, "fields", tuple((orient(n, True), orient(v, True)) for n, v in self.fields))

    def size(self) -> int:
        """Characters as Discord counts them towards the 6,000 limit."""
        parts = [self.title, self.description, self.footer, *(s for f in self.fields for s in f)]
        return sum(tx.utf16_len(p) for p in parts)

    def to_embed_dict(self) -> dict[str, Any]:
        """Discord's embed JSON (``discord.Embed.from_dict`` accepts it)."""
        data: dict[str, Any] = {"type": "rich", "title": self.title, "description": self.description, "color": self.color}
        if self.url:
            data["url"] = self.url
        if self.fields:
            data["fields"] = [{"name": n, "value": v, "inline": False} for n, v in self.fields]
        if self.footer:
            data["footer"] = {"text": self.footer}
        if self.image:
            data["image"] = {"url": f"attachment://{self.image}"}
        return data

    def as_text(self) -> str:
        """A plain-text rendering for terminals, logs and golden files."""
        lines = [f"# {self.title}"]
        if self.url:
            lines.append(f"<{self.url}>")
        lines += ["", self.description]
        for name, value in self.fields:
            lines += ["", f"## {name}", value]
        if self.footer:
            lines += ["", f"-- {self.footer}"]
        return "\n".join(lines)

    def fit(self, total: int = tx.TOTAL_MAX) -> "RenderedMessage":
        """This message within Discord's limits: each part trimmed, then the description and
        the last fields shortened until the whole fits ``total``."""
        cut = self._trim
        fields = tuple((cut(n, tx.FIELD_NAME_MAX), cut(v, tx.FIELD_VALUE_MAX)) for n, v in self.fields[: tx.FIELDS_MAX])
        msg = replace(
            self,
            title=cut(self.title, tx.TITLE_MAX),
            description=cut(self.description, tx.DESCRIPTION_MAX),
            footer=cut(self.footer, tx.FOOTER_MAX),
            fields=fields,
        )
        while msg.size() > total:
            excess = msg.size() - total
            longest = max(range(len(msg.fields)), key=lambda i: tx.utf16_len(msg.fields[i][1]), default=None)
            if longest is not None and tx.utf16_len(msg.fields[longest][1]) > 64:
                name, value = msg.fields[longest]
                value = cut(value, max(64, tx.utf16_len(value) - excess))
                msg = replace(msg, fields=msg.fields[:longest] + ((name, value),) + msg.fields[longest + 1 :])
            elif tx.utf16_len(msg.description) > 64:
                msg = replace(msg, description=cut(msg.description, max(64, tx.utf16_len(msg.description) - excess)))
            elif msg.fields:
                msg = replace(msg, fields=msg.fields[:-1])
            else:
                msg = replace(msg, footer="", description=cut(msg.description, max(1, tx.utf16_len(msg.description) - excess)))
        return msg

    def _trim(self, text: str, limit: int) -> str:
        """``text`` trimmed so that, oriented again for this message's direction, it still fits
        ``limit`` (the direction marks count towards Discord's limits too)."""
        rtl = is_rtl(self.lang)
        plain = text.replace(RLM, "") if rtl else text
        budget = limit
        while True:
            cut = tx.trim(plain, budget)
            over = tx.utf16_len(orient(cut, rtl)) - limit
            if over <= 0 or budget <= 1:
                return cut
            budget -= over


def as_text(messages: Sequence[RenderedMessage]) -> str:
    """Several embeds of one message as text (``both``: Arabic, then English)."""
    return "\n\n====\n\n".join(m.as_text() for m in messages)


RenderFn = Callable[..., RenderedMessage]


def render_both(render: RenderFn, *args: Any, ar: Translator, en: Translator, **kwargs: Any) -> list[RenderedMessage]:
    """Arabic then English renderings of the same thing, fitted to share one message."""
    messages = [render(*args, t=ar, **kwargs), render(*args, t=en, **kwargs)]
    if sum(m.size() for m in messages) <= tx.TOTAL_MAX:
        return messages
    share = tx.TOTAL_MAX // len(messages)
    return [m.fit(total=share) for m in messages]


def render_for(language: str, render: RenderFn, *args: Any, tz: str = "UTC", digits: str = "latn", **kwargs: Any) -> list[RenderedMessage]:
    """A subscription's language (``ar``, ``en`` or ``both``) → the embeds of one message."""
    if language == "both":
        return render_both(render, *args, ar=translations("ar", tz, digits), en=translations("en", tz, digits), **kwargs)  # type: ignore[arg-type]
    return [render(*args, t=translations(language, tz, digits), **kwargs)]  # type: ignore[arg-type]
