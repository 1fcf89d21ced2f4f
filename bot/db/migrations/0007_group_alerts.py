"""One upstream, one message (issue 17 item 3): an alert message that carries a group of
incidents (a provider's outage and the services that fell with it) in a channel names the
group, so every later event of any of them edits that one message."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0006_track_record")]

    operations = [
        ops.AddField(model_name="AlertMessage", name="group_key", field=fields.CharField(max_length=104, null=True)),
    ]
