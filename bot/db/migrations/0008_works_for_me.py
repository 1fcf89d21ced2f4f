"""“Works for me” beside “down for me too” (issue 17 item 5): the answers of users for whom
the service works, counted in the crowd window and purged like the crowd reports."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0007_group_alerts")]

    operations = [
        ops.CreateModel(
            name="WorksReport",
            fields=[
                ("id", fields.IntField(primary_key=True, unique=True, db_index=True)),
                ("service_id", fields.CharField(max_length=64)),
                ("guild_id", fields.BigIntField(null=True)),
                ("user_hash", fields.CharField(max_length=64)),
                ("at", fields.DatetimeField(db_index=True)),
            ],
            options={
                "table": "works_reports", "app": "models", "pk_attr": "id", "indexes": (("service_id", "at"),),
                "table_description": "One “works for me” answer (a user saying the service works for them), purged with the crowd reports.",
            },
            bases=["Model"],
        ),
    ]
