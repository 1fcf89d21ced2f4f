from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='CrowdBucket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('service_id', fields.CharField(max_length=64)),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('count', fields.FloatField(default=0.0)),
            ],
            options={'table': 'crowd_buckets', 'app': 'models', 'unique_together': (('service_id', 'bucket_start'),), 'pk_attr': 'id', 'table_description': 'Weighted report count per service per 5-minute bucket, kept for the baseline.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CrowdReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('service_id', fields.CharField(max_length=64)),
                ('guild_id', fields.BigIntField(null=True)),
                ('user_hash', fields.CharField(max_length=64)),
                ('problem', fields.CharField(default='other', max_length=16)),
                ('weight', fields.FloatField(default=1.0)),
                ('counted', fields.BooleanField(default=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'crowd_reports', 'app': 'models', 'indexes': [Index(fields=['service_id', 'at']), Index(fields=['user_hash', 'service_id', 'at'])], 'pk_attr': 'id', 'table_description': 'One crowd report (a user saying it is down for them), purged after the retention period.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DetectorState',
            fields=[
                ('service_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('state', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'detector_state', 'app': 'models', 'pk_attr': 'service_id', 'table_description': 'The state of the incident state machine for one service (JSON), rebuilt at start.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GuildSettings',
            fields=[
                ('guild_id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('language', fields.CharField(default='en', max_length=4)),
                ('timezone', fields.CharField(default='UTC', max_length=64)),
                ('digits', fields.CharField(default='latn', max_length=4)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'guild_settings', 'app': 'models', 'pk_attr': 'guild_id', 'table_description': 'Per-guild preferences, a guild without a row speaks English in UTC with Latin digits.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Incident',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=96)),
                ('service_id', fields.CharField(db_index=True, max_length=64)),
                ('status', fields.CharField(max_length=16)),
                ('peak_status', fields.CharField(max_length=16)),
                ('confidence', fields.CharField(null=True, max_length=16)),
                ('unacknowledged', fields.BooleanField(default=False)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('official_update', fields.TextField(null=True, unique=False)),
                ('report_peak', fields.IntField(null=True)),
                ('report_peak_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'incidents', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A period in which the verdict of a service was not operational.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('incident', fields.ForeignKeyField('models.Incident', source_field='incident_id', db_constraint=True, to_field='id', related_name='alert_messages', on_delete=OnDelete.CASCADE)),
                ('channel_id', fields.BigIntField()),
                ('message_id', fields.BigIntField()),
            ],
            options={'table': 'alert_messages', 'app': 'models', 'unique_together': (('incident_id', 'channel_id'),), 'pk_attr': 'id', 'table_description': 'The alert message of an incident in a channel: edited on updates, replied to on recovery.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IncidentEventRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('incident', fields.ForeignKeyField('models.Incident', source_field='incident_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(max_length=16)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('fanned_out', fields.BooleanField(default=False, db_index=True)),
            ],
            options={'table': 'incident_events', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One entry in the timeline of an incident, turned into deliveries by the outbox.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KeyValue',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'key_value', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Small named values (the report-hash salt, the crowd baselines) that must persist.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SourceState',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ('service_id', fields.CharField(db_index=True, max_length=64)),
                ('kind', fields.CharField(max_length=16)),
                ('next_due', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('consecutive_errors', fields.IntField(default=0)),
                ('last_observation', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('owner', fields.CharField(null=True, max_length=64)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'source_state', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Per-source scheduling and the last observation, ``owner``/``lease_until`` let several'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Subscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guild_id', fields.BigIntField(db_index=True)),
                ('channel_id', fields.BigIntField(db_index=True)),
                ('service_id', fields.CharField(db_index=True, max_length=64)),
                ('language', fields.CharField(default='en', max_length=4)),
                ('role_id', fields.BigIntField(null=True)),
                ('min_severity', fields.CharField(default='degraded', max_length=16)),
                ('enabled', fields.BooleanField(default=True)),
                ('disabled_reason', fields.CharField(null=True, max_length=200)),
                ('created_by', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'subscriptions', 'app': 'models', 'unique_together': (('channel_id', 'service_id'),), 'pk_attr': 'id', 'table_description': 'A channel following one service (or all) in a language.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('models.IncidentEventRecord', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('subscription', fields.ForeignKeyField('models.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('channel_id', fields.BigIntField()),
                ('language', fields.CharField(max_length=4)),
                ('nonce', fields.CharField(unique=True, max_length=25)),
                ('state', fields.CharField(default='pending', db_index=True, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('message_id', fields.BigIntField(null=True)),
                ('last_error', fields.CharField(null=True, max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'deliveries', 'app': 'models', 'unique_together': (('event_id', 'subscription_id'),), 'pk_attr': 'id', 'table_description': 'One message for one incident event to one channel, persisted before it is sent.'},
            bases=['Model'],
        ),
    ]
