"""Attachments as Discord handles them (https://discord.com/developers/docs/reference#uploading-files):
files arrive as ``files[n]`` parts of a multipart body whose ``payload_json`` lists them in
``attachments`` as ``{"id": n, "filename": …}``; the message then carries each as an attachment
object with its own snowflake, size, content type and CDN URL. On an edit, ``attachments``
is the complete new list: existing attachments named by their id are kept, new ones come from
the parts, and any attachment left out is removed. A file over the upload limit is refused
with 413 / code 40005."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fake_discord.wire import DiscordHTTPError

if TYPE_CHECKING:
    from tests.fake_discord.server import FakeDiscord

#: the default upload limit for a bot (10 MiB since 2024)
UPLOAD_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


def attachments_for(
    fake: "FakeDiscord", channel_id: int, body: dict[str, Any], previous: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]] | None:
    """The message's attachments after ``body``; None when the body says nothing about them
    (an edit without ``attachments`` keeps what the message had)."""
    files: dict[str, UploadedFile] = body.get("_files") or {}
    listed = body.get("attachments")
    if listed is None and not files:
        return None if previous is not None else []
    if listed is None:  # files without an attachments list: every part is a new attachment
        listed = [{"id": int(name[6:-1]), "filename": f.filename} for name, f in files.items() if name.startswith("files[")]
    kept = {str(a["id"]): a for a in previous or []}
    out: list[dict[str, Any]] = []
    for item in listed:
        key = str(item.get("id"))
        part = files.get(f"files[{key}]")
        if part is not None and key.isdigit() and key not in kept:
            if len(part.data) > UPLOAD_LIMIT:
                raise DiscordHTTPError.named("entity_too_large")
            aid = fake.snowflake()
            filename = str(item.get("filename") or part.filename)
            # Discord reports the media type of the file, not the part's generic one
            content_type = mimetypes.guess_type(filename)[0] or part.content_type
            fake.attachment_data[aid] = part.data
            out.append({
                "id": str(aid), "filename": filename, "size": len(part.data), "content_type": content_type,
                "url": f"https://cdn.discordapp.com/attachments/{channel_id}/{aid}/{filename}",
                "proxy_url": f"https://media.discordapp.net/attachments/{channel_id}/{aid}/{filename}",
            })  # fmt: skip
        elif key in kept:
            out.append(kept[key])
    return out
