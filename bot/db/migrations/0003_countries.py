"""Countries (issue 17): a guild's country (``/settings country``; unset: guessed from its time
zone) and the country each crowd report came from."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0002_drop_fanned_out")]

    operations = [
        ops.AddField(model_name="GuildSettings", name="country", field=fields.CharField(max_length=2, null=True)),
        ops.AddField(model_name="CrowdReport", name="country", field=fields.CharField(max_length=2, null=True)),
    ]
