"""Two indexes the models declare that migrated databases lacked: ``deliveries.published_at``
(the field gained ``db_index`` after 0005 added it) and, on SQLite only, ``incident_events.at``
(0002 dropped a column by rebuilding the table, which left the index behind; PostgreSQL kept
it). Plain ``CREATE INDEX IF NOT EXISTS`` under the names tortoise gives them, because
tortoise's ``AlterField`` on SQLite rebuilds the table too — and drops every other index of
it. Found by ``tests/db/test_models.py::test_migrations_build_the_schema_the_models_declare``."""

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
