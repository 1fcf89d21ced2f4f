"""Follow delivery (issue 19 item 1): a subscription says how it is delivered (``direct``,
``follow`` a hub through Discord's follower webhook, or ``hub`` itself), and a hub delivery
records when its message was published to the followers (the hub's hourly publish budget)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0004_custom_services")]

    operations = [
        ops.AddField(model_name="Subscription", name="delivery", field=fields.CharField(max_length=8, default="direct")),
        ops.AddField(model_name="Subscription", name="hub_channel_id", field=fields.BigIntField(null=True)),
        ops.AddField(model_name="Subscription", name="webhook_id", field=fields.BigIntField(null=True)),
        ops.AddField(model_name="Delivery", name="published_at", field=fields.DatetimeField(null=True, db_index=True)),
    ]
