# Indexes for the order list at scale: phone and name look-ups in page order, paid time as a keyset, and
# (PostgreSQL only) a trigram index for address fragments in the free search.

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

ADDRESS_TRGM = "order_address_trgm"


def address_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {ADDRESS_TRGM} ON orders_order USING gin (receiver_address gin_trgm_ops)"
        )


def drop_address_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {ADDRESS_TRGM}")


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0011_order_line_versions'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='order',
            name='order_receiver_phone',
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['receiver_phone', '-created_at', '-id'], name='order_phone_created'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['receiver_name', '-created_at', '-id'], name='order_name_created'),
        ),
        migrations.RemoveIndex(
            model_name='order',
            name='order_paid_at',
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['-paid_at', '-id'], name='order_paid_keyset'),
        ),
        # No-op on other databases; pg_trgm is a trusted extension (the database owner may create it).
        TrigramExtension(),
        migrations.RunPython(address_trigram_index, drop_address_trigram_index, elidable=False),
    ]
