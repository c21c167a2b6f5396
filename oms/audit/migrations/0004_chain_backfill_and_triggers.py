"""Link the rows written before the chain existed (in id order, chained_at = their own time), set the chain
head, then (PostgreSQL) install the chain, insert and truncate triggers (oms/audit/chain_sql.py)."""

from django.db import migrations

from oms.audit.chain_sql import DISABLE_GUARD, ENABLE_GUARD, INSTALL, UNINSTALL
from oms.audit.domain.chain import CONTENT_FIELDS, GENESIS, content_digest, link_hash


def forward(apps, schema_editor):
    log = apps.get_model("audit", "OperationLog")
    head = apps.get_model("audit", "ChainHead")
    pg = schema_editor.connection.vendor == "postgresql"
    if pg:
        schema_editor.execute(DISABLE_GUARD, params=None)
    seq, prev = 0, GENESIS
    rows = log.objects.order_by("id").values("id", *CONTENT_FIELDS)
    for row in rows.iterator(chunk_size=2000):
        seq += 1
        content = content_digest(row)
        link = link_hash(seq, prev, content)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_operationlog SET content_hash = %s, seq = %s, prev_hash = %s, row_hash = %s, "
                "chained_at = at WHERE id = %s",
                [content, seq, prev, link, row["id"]],
            )
        prev = link
    if pg:
        schema_editor.execute(ENABLE_GUARD, params=None)
    head.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev})
    if pg:
        schema_editor.execute(INSTALL, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain")]
    operations = [migrations.RunPython(forward, backward)]
