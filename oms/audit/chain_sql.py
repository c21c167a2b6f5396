"""PostgreSQL side of the operation log's tamper evidence (installed by migration audit 0004).

* ``audit_operationlog_insert`` (BEFORE INSERT): a new row's chain columns are the database's to set, and a
  row must be written at its own time (``at`` within five minutes of the statement), so no back-dated rows.
* ``audit_operationlog_chain`` (a constraint trigger, DEFERRABLE INITIALLY DEFERRED): at COMMIT each new row
  is linked — the chain head's row lock is taken, the row gets the next seq, the previous hash and
  ``sha256(seq|prev|content_hash)``, and the head moves on. The lock is held only from the commit's trigger
  phase to its end, so concurrent writers chain one after the other without holding it during their work.
* ``audit_operationlog_append_only`` (BEFORE UPDATE/DELETE per row, BEFORE TRUNCATE): refused, except the chain
  trigger filling a row's chain columns (content unchanged) and TRUNCATE by the table's owner (who could drop
  the trigger anyway; the test suite's flush). Run the application as a role that does not own the tables
  (README "Operation log"): it cannot disable these triggers or set session_replication_role.
"""

from __future__ import annotations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_operationlog_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND ROW(NEW.id, NEW.at, NEW.actor_id, NEW.actor_name, NEW.action, NEW.object_type, NEW.object_id,
               NEW.object_repr, NEW.before, NEW.after, NEW.reason, NEW.request_id, NEW.client_address, NEW.via,
               NEW.content_hash)
           IS NOT DISTINCT FROM
           ROW(OLD.id, OLD.at, OLD.actor_id, OLD.actor_name, OLD.action, OLD.object_type, OLD.object_id,
               OLD.object_repr, OLD.before, OLD.after, OLD.reason, OLD.request_id, OLD.client_address, OLD.via,
               OLD.content_hash) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'TRUNCATE'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_operationlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_operationlog_no_update_delete ON audit_operationlog;
CREATE TRIGGER audit_operationlog_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_operationlog
    FOR EACH ROW EXECUTE FUNCTION audit_operationlog_append_only();
CREATE TRIGGER audit_operationlog_no_truncate
    BEFORE TRUNCATE ON audit_operationlog
    FOR EACH STATEMENT EXECUTE FUNCTION audit_operationlog_append_only();

CREATE OR REPLACE FUNCTION audit_operationlog_before_insert() RETURNS trigger AS $$
BEGIN
    NEW.seq := NULL;
    NEW.prev_hash := '';
    NEW.row_hash := '';
    NEW.chained_at := NULL;
    IF NEW.at < statement_timestamp() - interval '5 minutes'
       OR NEW.at > statement_timestamp() + interval '5 minutes' THEN
        RAISE EXCEPTION 'audit_operationlog: a row is written at its own time, not at %', NEW.at
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_operationlog_insert
    BEFORE INSERT ON audit_operationlog
    FOR EACH ROW EXECUTE FUNCTION audit_operationlog_before_insert();

CREATE OR REPLACE FUNCTION audit_operationlog_chain() RETURNS trigger AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    link text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN  -- an empty log (a fresh or flushed database) starts the chain
        INSERT INTO audit_chainhead (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
        SELECT seq, hash INTO head_seq, head_hash FROM audit_chainhead WHERE id = 1 FOR UPDATE;
    END IF;
    head_seq := head_seq + 1;
    link := encode(sha256(convert_to(head_seq::text || '|' || head_hash || '|' || NEW.content_hash, 'UTF8')), 'hex');
    UPDATE audit_operationlog
       SET seq = head_seq, prev_hash = head_hash, row_hash = link, chained_at = clock_timestamp()
     WHERE id = NEW.id;
    UPDATE audit_chainhead SET seq = head_seq, hash = link WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER audit_operationlog_chain
    AFTER INSERT ON audit_operationlog
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_operationlog_chain();
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS audit_operationlog_chain ON audit_operationlog;
DROP TRIGGER IF EXISTS audit_operationlog_insert ON audit_operationlog;
DROP TRIGGER IF EXISTS audit_operationlog_no_truncate ON audit_operationlog;
DROP FUNCTION IF EXISTS audit_operationlog_chain();
DROP FUNCTION IF EXISTS audit_operationlog_before_insert();
"""

# Backfill of rows written before the chain existed (migration only: the migration runs as the owner).
DISABLE_GUARD = "ALTER TABLE audit_operationlog DISABLE TRIGGER audit_operationlog_no_update_delete"
ENABLE_GUARD = "ALTER TABLE audit_operationlog ENABLE TRIGGER audit_operationlog_no_update_delete"
