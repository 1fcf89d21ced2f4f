"""Two indexes the models declare that migrated databases lacked: ``deliveries.published_at``
(0005 added the field with ``db_index=True``, but tortoise's ``AddField`` creates no index for
``db_index``, on either dialect) and, on SQLite only, ``incident_events.at`` (0002 dropped a
column by rebuilding the table, and the rebuild drops the table's indexes; PostgreSQL kept it).
Plain ``CREATE INDEX IF NOT EXISTS`` under the names tortoise gives them, not ``AlterField``:
on SQLite that rebuilds the table too, dropping every other index of it.

For later migrations: give an ``AddField`` with ``db_index`` its own ``CREATE INDEX``, and
after any ``RemoveField``/``AlterField`` on SQLite re-create the table's indexes.
``tests/db/test_models.py::test_migrations_build_the_schema_the_models_declare`` (which found
both) fails until they match."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0009_leases")]

    operations = [
        ops.RunSQL(
            [
                'CREATE INDEX IF NOT EXISTS "idx_deliveries_publish_816cb5" ON "deliveries" ("published_at")',
                'CREATE INDEX IF NOT EXISTS "idx_incident_ev_at_a753d9" ON "incident_events" ("at")',
            ],
            reverse_sql=['DROP INDEX IF EXISTS "idx_deliveries_publish_816cb5"'],
        ),
    ]
