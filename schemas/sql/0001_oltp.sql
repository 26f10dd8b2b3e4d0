-- 0001_oltp.sql - the OLTP order tables that the postgres_oltp sink keeps:
-- orders (one row per order: its current status, total, customer and
-- ship-from location), order_items (the order's lines, inserted once) and
-- order_status_history (append-only: one row per status event, keyed by the
-- event's Kafka topic, partition and offset, so that a replayed event inserts
-- nothing). Money is DECIMAL(18,4): the events' int64 ten-thousandths
-- divided by 10^4, exactly. Status codes are those of schemas/README.md.
-- Times are timestamptz (stored in UTC). OFFSET is a reserved word, so the
-- Kafka offset columns are kafka_offset. Names are unqualified: the tables
-- land in the connection's current schema.

CREATE TABLE orders (
    order_id        text          PRIMARY KEY CHECK (order_id <> ''),
    customer_id     text          NOT NULL CHECK (customer_id <> ''),
    location_id     text          NOT NULL CHECK (location_id <> ''),  -- ship-from store or warehouse
    status          smallint      NOT NULL
                    CHECK (status IN (1000, 1100, 1150, 1200, 1250, 1300, 1900)),
    total           DECIMAL(18,4) NOT NULL CHECK (total >= 0),         -- sum of quantity * unit_price
    paid            DECIMAL(18,4) CHECK (paid >= 0),                   -- amount charged; NULL until paid
    currency        char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at      timestamptz   NOT NULL,                            -- order_placed's event_time
    updated_at      timestamptz   NOT NULL,                            -- event_time of the last change
    -- The Kafka coordinates of the event that last moved the row, so that a
    -- sink moves it only forward (a replayed or older event changes nothing).
    last_topic      text,
    last_partition  int           CHECK (last_partition >= 0),
    last_offset     bigint        CHECK (last_offset >= 0),
    CHECK (updated_at >= created_at),
    CHECK ((last_topic IS NULL) = (last_partition IS NULL) AND (last_topic IS NULL) = (last_offset IS NULL))
);

CREATE INDEX orders_customer_idx ON orders (customer_id, created_at);
CREATE INDEX orders_status_idx ON orders (status, updated_at);

CREATE TABLE order_items (
    order_id        text          NOT NULL REFERENCES orders (order_id),
    line            int           NOT NULL CHECK (line BETWEEN 1 AND 1000),  -- 1-based, as listed
    product_id      text          NOT NULL CHECK (product_id <> ''),
    category        text          NOT NULL DEFAULT '',
    quantity        int           NOT NULL CHECK (quantity > 0),
    unit_price      DECIMAL(18,4) NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line)
);

CREATE TABLE order_status_history (
    history_id      bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        text          NOT NULL REFERENCES orders (order_id),
    status          smallint      NOT NULL
                    CHECK (status IN (1000, 1100, 1150, 1200, 1250, 1300, 1900)),
    reason          text,                                             -- e.g. payment_rejected
    at              timestamptz   NOT NULL,                            -- the event's event_time
    topic           text          NOT NULL,
    partition       int           NOT NULL CHECK (partition >= 0),
    kafka_offset    bigint        NOT NULL CHECK (kafka_offset >= 0),
    UNIQUE (topic, partition, kafka_offset)
);

CREATE INDEX order_status_history_order_idx ON order_status_history (order_id, at);
