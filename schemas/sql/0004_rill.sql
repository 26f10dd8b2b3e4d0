-- 0004_rill.sql - rill's own tables for its PostgreSQL sinks (DESIGN.md
-- section 3.3). rill_offsets is the sink's position, the truth it resumes
-- from: one row per (consumer group, topic, partition) with the epoch of the
-- instance that owns the partition and the next offset to read; a data
-- transaction moves it only WHERE epoch and next_offset are what the owner
-- expects. The column is group_id because GROUP is a reserved word (so is
-- OFFSET: kafka_offset). rill_dead_letters holds the records a sink's tables
-- refused for their data, with the reason, written in the same transaction
-- as the rest of their batch, once per record coordinates. Names are
-- unqualified: the tables land in the connection's current schema.

CREATE TABLE rill_offsets (
    group_id        text          NOT NULL CHECK (group_id <> ''),
    topic           text          NOT NULL CHECK (topic <> ''),
    partition       int           NOT NULL CHECK (partition >= 0),
    epoch           bigint        NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    next_offset     bigint        NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

CREATE TABLE rill_dead_letters (
    id              bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id        text          NOT NULL,
    topic           text          NOT NULL,
    partition       int           NOT NULL CHECK (partition >= 0),
    kafka_offset    bigint        NOT NULL CHECK (kafka_offset >= 0),
    sink            text          NOT NULL,                      -- the sink's name in the topology
    reason          text          NOT NULL,                      -- PostgreSQL's message, with its SQLSTATE
    key             bytea,
    payload         bytea,
    at              timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (group_id, topic, partition, kafka_offset)
);
