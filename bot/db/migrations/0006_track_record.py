"""The status page's track record (issue 17 item 4): when the official page first acknowledged
an incident, and whether the service had an official page to watch at all (incidents from
before this migration have neither, and count in no record)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0005_follow")]

    operations = [
        ops.AddField(model_name="Incident", name="acknowledged_at", field=fields.DatetimeField(null=True)),
        ops.AddField(model_name="Incident", name="page_watched", field=fields.BooleanField(default=False)),
    ]
