-- 0002_star.sql - the OLAP star schema that the postgres_star sink fills from
-- order_shipped: fact_sales (one row per shipped order line, natural key
-- order_id and line) and its dimensions dim_customer, dim_product (with the
-- category), dim_store (the ship-from location) and dim_date. Each of the
-- first three has a bigint identity surrogate key and its natural key
-- UNIQUE; is_inferred marks a member the sink created before its attributes
-- were known (filled in later). dim_date is keyed by yyyymmdd and pre-built
-- here for 2020-01-01 .. 2035-12-31. Money is DECIMAL(18,4). Names are
-- unqualified: the tables land in the connection's current schema.

CREATE TABLE dim_customer (
    customer_key    bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     text          NOT NULL UNIQUE CHECK (customer_id <> '')
);

CREATE TABLE dim_product (
    product_key     bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id      text          NOT NULL UNIQUE CHECK (product_id <> ''),
    category        text          NOT NULL DEFAULT '',
    is_inferred     boolean       NOT NULL DEFAULT false
);

CREATE TABLE dim_store (
    store_key       bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location_id     text          NOT NULL UNIQUE CHECK (location_id <> '')
);

CREATE TABLE dim_date (
    date_key        int           PRIMARY KEY,                  -- yyyymmdd
    calendar_date   date          NOT NULL UNIQUE,
    year            smallint      NOT NULL,
    quarter         smallint      NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    month           smallint      NOT NULL CHECK (month BETWEEN 1 AND 12),
    month_name      text          NOT NULL,                     -- January .. December
    day             smallint      NOT NULL CHECK (day BETWEEN 1 AND 31),
    day_of_week     smallint      NOT NULL CHECK (day_of_week BETWEEN 1 AND 7),  -- ISO: 1 Monday .. 7 Sunday
    day_name        text          NOT NULL,                     -- Monday .. Sunday
    iso_year        smallint      NOT NULL,                     -- the year the ISO week belongs to
    iso_week        smallint      NOT NULL CHECK (iso_week BETWEEN 1 AND 53),
    is_weekend      boolean       NOT NULL,
    CHECK (date_key = EXTRACT(YEAR FROM calendar_date) * 10000
                      + EXTRACT(MONTH FROM calendar_date) * 100 + EXTRACT(DAY FROM calendar_date))
);

INSERT INTO dim_date
SELECT to_char(d, 'YYYYMMDD')::int,
       d,
       EXTRACT(YEAR FROM d),
       EXTRACT(QUARTER FROM d),
       EXTRACT(MONTH FROM d),
       to_char(d, 'FMMonth'),
       EXTRACT(DAY FROM d),
       EXTRACT(ISODOW FROM d),
       to_char(d, 'FMDay'),
       EXTRACT(ISOYEAR FROM d),
       EXTRACT(WEEK FROM d),
       EXTRACT(ISODOW FROM d) >= 6
FROM generate_series(date '2020-01-01', date '2035-12-31', interval '1 day') AS g(ts),
     LATERAL (SELECT ts::date AS d) AS day;

CREATE TABLE fact_sales (
    order_id        text          NOT NULL CHECK (order_id <> ''),
    line            int           NOT NULL CHECK (line BETWEEN 1 AND 1000),
    date_key        int           NOT NULL REFERENCES dim_date (date_key),
    customer_key    bigint        NOT NULL REFERENCES dim_customer (customer_key),
    product_key     bigint        NOT NULL REFERENCES dim_product (product_key),
    store_key       bigint        NOT NULL REFERENCES dim_store (store_key),
    quantity        int           NOT NULL CHECK (quantity > 0),
    unit_price      DECIMAL(18,4) NOT NULL CHECK (unit_price >= 0),
    revenue         DECIMAL(18,4) NOT NULL CHECK (revenue >= 0),
    currency        char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    PRIMARY KEY (order_id, line),                                 -- the natural key: replays insert nothing
    CHECK (revenue = quantity * unit_price)
);

CREATE INDEX fact_sales_date_idx ON fact_sales (date_key);
CREATE INDEX fact_sales_customer_idx ON fact_sales (customer_key);
CREATE INDEX fact_sales_product_idx ON fact_sales (product_key);
CREATE INDEX fact_sales_store_idx ON fact_sales (store_key);
