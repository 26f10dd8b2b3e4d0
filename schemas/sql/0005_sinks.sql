-- 0005_sinks.sql - what the PostgreSQL sinks need beyond the tables they
-- fill. The events of one order arrive on several topics, read
-- independently, so a sink may see an order's payment before the order
-- itself, or its shipment before its lines; it parks such an event in a
-- table of its own, in the same transaction, until the other side lands:
--  - rill_status_pending (postgres_oltp): status events whose order is not
--    in orders yet; moved into order_status_history when it is.
--  - rill_star_lines and rill_star_outcome (postgres_star): an order's lines
--    from order_placed, and its outcome (shipped, or cancelled); when both
--    are in, a shipped order's lines become fact_sales rows and both go.
-- order_status_history gains amount: the money a status event moved (the
-- amount charged with 1100), from which orders.paid comes.
-- rill_advance() is the fenced position update of every sink transaction
-- (DESIGN.md section 3.3): it moves each listed partition's next_offset only
-- where the epoch and the expected offset are the caller's, and raises
-- SQLSTATE RL001 when one does not match (a newer owner bumped the epoch),
-- so that the whole transaction rolls back.

ALTER TABLE order_status_history ADD COLUMN amount DECIMAL(18,4) CHECK (amount >= 0);

CREATE TABLE rill_status_pending (
    order_id        text          NOT NULL CHECK (order_id <> ''),
    status          smallint      NOT NULL
                    CHECK (status IN (1000, 1100, 1150, 1200, 1250, 1300, 1900)),
    reason          text,
    amount          DECIMAL(18,4) CHECK (amount >= 0),
    at              timestamptz   NOT NULL,
    topic           text          NOT NULL,
    partition       int           NOT NULL CHECK (partition >= 0),
    kafka_offset    bigint        NOT NULL CHECK (kafka_offset >= 0),
    PRIMARY KEY (topic, partition, kafka_offset)
);

CREATE INDEX rill_status_pending_order_idx ON rill_status_pending (order_id);

CREATE TABLE rill_star_lines (
    order_id        text          NOT NULL CHECK (order_id <> ''),
    line            int           NOT NULL CHECK (line BETWEEN 1 AND 1000),
    customer_id     text          NOT NULL CHECK (customer_id <> ''),
    location_id     text          NOT NULL CHECK (location_id <> ''),
    product_id      text          NOT NULL CHECK (product_id <> ''),
    quantity        int           NOT NULL CHECK (quantity > 0),
    unit_price      DECIMAL(18,4) NOT NULL CHECK (unit_price >= 0),
    currency        char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    PRIMARY KEY (order_id, line)
);

CREATE TABLE rill_star_outcome (
    order_id        text          PRIMARY KEY CHECK (order_id <> ''),
    shipped         boolean       NOT NULL,     -- false: cancelled, no facts
    at              timestamptz   NOT NULL      -- the outcome event's event_time
);

CREATE FUNCTION rill_advance(p_group text, p_topics text[], p_partitions int[],
                             p_epochs bigint[], p_expected bigint[], p_next bigint[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    moved int;
    want int := cardinality(p_topics);
BEGIN
    UPDATE rill_offsets o
       SET next_offset = w.next_offset, updated_at = now()
      FROM unnest(p_topics, p_partitions, p_epochs, p_expected, p_next)
           AS w (topic, partition, epoch, expected, next_offset)
     WHERE o.group_id = p_group AND o.topic = w.topic AND o.partition = w.partition
       AND o.epoch = w.epoch AND o.next_offset = w.expected;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved <> want THEN
        RAISE EXCEPTION 'fenced: % of % partition positions of group % have a newer owner',
                        want - moved, want, p_group
              USING ERRCODE = 'RL001';
    END IF;
END
$$;
