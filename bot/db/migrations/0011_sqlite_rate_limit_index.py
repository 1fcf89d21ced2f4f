"""SQLite drops the crowd's rate-limit index (user pseudonym, service, time): its one process
keeps the 30-minute window in memory and never reads it, and writing it was the largest cost
of a burst of reports. PostgreSQL keeps it (see ``bot.db.setup.RATE_LIMIT_INDEX``)."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from bot.db.setup import sqlite_trimmed


async def _trim(_apps: Any, schema_editor: Any) -> None:
    await sqlite_trimmed(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0010_missing_indexes")]

    operations = [ops.RunPython(_trim, reverse_code=ops.RunPython.noop)]
