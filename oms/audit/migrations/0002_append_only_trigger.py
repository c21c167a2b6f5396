"""On PostgreSQL the database itself refuses UPDATE and DELETE on the operation log."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_operationlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_operationlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_operationlog_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_operationlog
    FOR EACH ROW EXECUTE FUNCTION audit_operationlog_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_operationlog_no_update_delete ON audit_operationlog;
DROP FUNCTION IF EXISTS audit_operationlog_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
