# The one-round-trip intake of a single order on PostgreSQL (oms.orders.services.intake_pg): one function writes
# what order_intake built — buyer, order, lines, platform reference, payment, timeline, operation-log row — and
# reserves the lines on channel stock, in the statement that calls it. SQLite has no such function; it takes the
# general path. A change to this function is a new migration with a new name (…_v2), so code and database agree.

from django.db import migrations

BIGINT_MAX = 9_223_372_036_854_775_807


def _pushed(available: str) -> str:
    """The pushed figure (oms.inventory.domain.reservation.pushed_figure) of a channel-stock row ``cs``."""
    figure = f"LEAST(GREATEST({available} - cs.safety_stock, 0), COALESCE(cs.max_quantity, {BIGINT_MAX}))"
    return f"(CASE WHEN {figure} < cs.min_quantity THEN 0 ELSE {figure} END)"


PUSHED = _pushed("(cs.quota - cs.sales_reserved - req.quantity - cs.return_reserved)")

FUNCTION = f"""
CREATE OR REPLACE FUNCTION oms_order_intake_v1(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    ch bigint := (p->'order'->>'channel_id')::bigint;
    chk jsonb := p->'check';
    o orders_order%ROWTYPE;
    c orders_customer%ROWTYPE;
    a audit_operationlog%ROWTYPE;
    wanted bigint;
    taken bigint;
BEGIN
    -- 1. The caller's cached look-ups are what the database holds: the channel and SKU rows unchanged since it
    -- read them (the same row versions: the transaction that wrote each and where it lies), the mappings of the
    -- platform SKU codes it looked up the same (and none where it found none), no SKU with a code it found none of.
    IF NOT EXISTS (SELECT 1 FROM channels_channel h
                   WHERE h.id = ch AND h.xmin::text || ':' || h.ctid::text = chk->>'channel')
       OR EXISTS (SELECT 1 FROM jsonb_to_recordset(chk->'skus') AS k(id bigint, v text)
                  WHERE NOT EXISTS (SELECT 1 FROM catalog_sku s
                                    WHERE s.id = k.id AND s.xmin::text || ':' || s.ctid::text = k.v))
       OR (SELECT count(*) FROM orders_platformskumapping m
           WHERE m.channel_id = ch AND m.platform_sku_code IN (SELECT jsonb_array_elements_text(chk->'codes')))
          <> jsonb_array_length(chk->'mappings')
       OR (SELECT count(*) FROM jsonb_to_recordset(chk->'mappings') AS k(id bigint, v text)
           JOIN orders_platformskumapping m
             ON m.id = k.id AND m.xmin::text || ':' || m.ctid::text = k.v AND m.channel_id = ch)
          <> jsonb_array_length(chk->'mappings')
       OR EXISTS (SELECT 1 FROM catalog_sku s WHERE s.code IN (SELECT jsonb_array_elements_text(chk->'absent'))) THEN
        RETURN jsonb_build_object('stale', true);
    END IF;

    -- 2. Every line can be reserved in full on a channel-stock row (read without a lock). Otherwise the general
    -- path decides: it marks short lines, or refuses the order when asked to.
    IF EXISTS (
        SELECT 1
        FROM (SELECT (e->>'sku_id')::bigint AS sku_id, sum((e->>'quantity')::bigint) AS quantity
              FROM jsonb_array_elements(p->'lines') e WHERE e->>'sku_id' IS NOT NULL GROUP BY 1) req
        LEFT JOIN channels_channelstock cs ON cs.channel_id = ch AND cs.sku_id = req.sku_id
        WHERE cs.id IS NULL OR cs.quota - cs.sales_reserved - cs.return_reserved < req.quantity) THEN
        RETURN jsonb_build_object('general', true);
    END IF;

    -- 3. The buyer, found or created (when a concurrent intake creates the same buyer, it is found).
    IF jsonb_typeof(p->'customer') = 'object' THEN
        c := jsonb_populate_record(NULL::orders_customer, p->'customer');
        SELECT id INTO c.id FROM orders_customer
        WHERE channel_id = c.channel_id AND platform_buyer_id = c.platform_buyer_id;
        IF c.id IS NULL THEN
            c.id := nextval(pg_get_serial_sequence('orders_customer', 'id'));
            INSERT INTO orders_customer SELECT (c).* ON CONFLICT (channel_id, platform_buyer_id) DO NOTHING;
            IF NOT FOUND THEN
                SELECT id INTO c.id FROM orders_customer
                WHERE channel_id = c.channel_id AND platform_buyer_id = c.platform_buyer_id;
            END IF;
        END IF;
    END IF;

    -- 4. The order and its rows. A platform order taken in already fails the order's unique key here.
    o := jsonb_populate_record(NULL::orders_order, p->'order');
    o.id := nextval(pg_get_serial_sequence('orders_order', 'id'));
    o.customer_id := c.id;
    INSERT INTO orders_order SELECT (o).*;
    INSERT INTO orders_orderline
    SELECT r.* FROM jsonb_array_elements(p->'lines') e, LATERAL jsonb_populate_record(NULL::orders_orderline,
        e || jsonb_build_object('id', nextval(pg_get_serial_sequence('orders_orderline', 'id')), 'order_id', o.id)) r;
    INSERT INTO orders_orderplatformref
    SELECT r.* FROM jsonb_array_elements(p->'refs') e, LATERAL jsonb_populate_record(NULL::orders_orderplatformref,
        e || jsonb_build_object('id', nextval(pg_get_serial_sequence('orders_orderplatformref', 'id')),
                                'order_id', o.id)) r;
    INSERT INTO orders_payment
    SELECT r.* FROM jsonb_array_elements(p->'payments') e, LATERAL jsonb_populate_record(NULL::orders_payment,
        e || jsonb_build_object('id', nextval(pg_get_serial_sequence('orders_payment', 'id')), 'order_id', o.id)) r;
    INSERT INTO orders_orderevent
    SELECT r.* FROM jsonb_array_elements(p->'events') WITH ORDINALITY AS x(e, n),
        LATERAL jsonb_populate_record(NULL::orders_orderevent,
            e || jsonb_build_object('id', nextval(pg_get_serial_sequence('orders_orderevent', 'id')),
                                    'order_id', o.id)) r
    ORDER BY x.n;

    -- 5. The operation-log row: its content hash covers the order's id, so it is taken here, over the canonical
    -- text the caller sent in two halves around the id (oms.audit.domain.chain.content_digest).
    a := jsonb_populate_record(NULL::audit_operationlog, p->'audit');
    a.id := nextval(pg_get_serial_sequence('audit_operationlog', 'id'));
    a.object_id := o.id::text;
    a.content_hash := encode(sha256(convert_to(
        (p->>'audit_head') || to_jsonb(o.id::text)::text || (p->>'audit_tail'), 'UTF8')), 'hex');
    INSERT INTO audit_operationlog SELECT (a).*;

    -- 6. Reserve last (oms.inventory.services.fast_reserve): lock the channel-stock rows in the global order, then
    -- take each SKU's units in full with a conditional UPDATE, read after the locks are held. The locks last until
    -- the COMMIT that ends the caller's statement.
    PERFORM 1 FROM channels_channelstock cs
    WHERE cs.channel_id = ch
      AND cs.sku_id IN (SELECT l.sku_id FROM orders_orderline l WHERE l.order_id = o.id AND l.sku_id IS NOT NULL)
    ORDER BY cs.channel_id, cs.sku_id
    FOR NO KEY UPDATE;
    WITH req AS (
        SELECT l.sku_id, sum(l.quantity)::bigint AS quantity
        FROM orders_orderline l WHERE l.order_id = o.id AND l.sku_id IS NOT NULL GROUP BY l.sku_id
    ), upd AS (
        UPDATE channels_channelstock cs
        SET sales_reserved = cs.sales_reserved + req.quantity,
            pushed = {PUSHED},
            pushed_at = CASE WHEN {PUSHED} <> cs.pushed OR cs.pushed_at IS NULL THEN now() ELSE cs.pushed_at END,
            updated_at = now()
        FROM req
        WHERE cs.channel_id = ch AND cs.sku_id = req.sku_id
          AND cs.quota - cs.sales_reserved - cs.return_reserved >= req.quantity
        RETURNING cs.channel_id, cs.sku_id, cs.quota - cs.sales_reserved - cs.return_reserved AS available,
                  cs.pushed, cs.pushed_at = now() AS changed
    ), log AS (
        INSERT INTO channels_availabilitychange (channel_id, sku_id, available, pushed, created_at)
        SELECT channel_id, sku_id, available, pushed, now() FROM upd WHERE changed
    )
    SELECT (SELECT count(*) FROM req), (SELECT count(*) FROM upd) INTO wanted, taken;
    IF taken < wanted THEN
        RAISE EXCEPTION 'oms_order_intake_v1: stock taken meanwhile' USING ERRCODE = 'OMS01';
    END IF;
    INSERT INTO inventory_reservation (ref_type, ref_id, scope, kind, sku_id, channel_id, warehouse_id, quantity,
                                       state, reason, created_at, closed_at)
    SELECT p->>'ref_type', l.id, 'channel', 'sales', l.sku_id, ch, NULL, l.quantity, 'active', '', now(), NULL
    FROM orders_orderline l WHERE l.order_id = o.id AND l.sku_id IS NOT NULL ORDER BY l.line_no;

    RETURN jsonb_build_object(
        'order_id', o.id, 'customer_id', c.id,
        'line_ids', (SELECT jsonb_agg(l.id ORDER BY l.line_no) FROM orders_orderline l WHERE l.order_id = o.id));
END
$fn$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS oms_order_intake_v1(jsonb)", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0015_import_job"),
        ("audit", "0004_chain_backfill_and_triggers"),
        ("catalog", "0003_sku_designate_hot_permission"),
        ("channels", "0005_ratio_help_text"),
        ("inventory", "0004_reservation_request"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
