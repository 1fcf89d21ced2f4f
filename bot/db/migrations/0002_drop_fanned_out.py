"""``incident_events.fanned_out`` was written (always true: the monitor writes an event and its
deliveries in one transaction) and never read: dropped, with its index."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.RemoveField(model_name="IncidentEventRecord", name="fanned_out"),
    ]
