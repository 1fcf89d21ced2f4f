"""Custom services and component subscriptions (issue 16): status pages typed by users, polled
like catalog services while a subscription uses them, and a subscription's optional component."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0003_countries")]

    operations = [
        ops.CreateModel(
            name="CustomService",
            fields=[
                ("id", fields.CharField(max_length=64, primary_key=True, unique=True, db_index=True)),
                ("url", fields.CharField(max_length=500, unique=True)),
                ("kind", fields.CharField(max_length=16)),
                ("source_url", fields.CharField(max_length=500)),
                ("name", fields.CharField(max_length=100)),
                ("created_by_guild", fields.BigIntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "custom_services", "app": "models", "pk_attr": "id",
                "table_description": "A status page typed by a Discord user, polled like a catalog service.",
            },
            bases=["Model"],
        ),
        ops.AddField(model_name="Subscription", name="component", field=fields.CharField(max_length=200, null=True)),
    ]
