"""The poller's election (issue 19): several ``run`` processes on one PostgreSQL database
elect the one that polls and detects through a lease row renewed in database time."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0008_works_for_me")]

    operations = [
        ops.CreateModel(
            name="Lease",
            fields=[
                ("name", fields.CharField(max_length=64, primary_key=True)),
                ("holder", fields.CharField(max_length=128)),
                ("until", fields.DatetimeField()),
            ],
            options={
                "table": "leases", "app": "models", "pk_attr": "name",
                "table_description": "A named lease (the poller's election): who holds it and until when (database time).",
            },
            bases=["Model"],
        ),
    ]
