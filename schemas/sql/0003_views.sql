-- 0003_views.sql - views for what people ask of the order tables, ready for
-- Metabase or any SQL tool: v_daily_revenue (per day and currency: orders,
-- units, revenue), v_sales_by_category, v_top_customers (by revenue, highest
-- first, with their rank) from the star schema, and v_orders_by_status (every
-- status code with its name and how many orders have it now, zero included)
-- from the OLTP orders. Revenue is summed per currency, never across
-- currencies. Names are unqualified: the views land in the connection's
-- current schema, over its tables.

CREATE VIEW v_daily_revenue AS
SELECT d.calendar_date            AS date,
       f.currency,
       count(DISTINCT f.order_id) AS orders,
       sum(f.quantity)            AS units,
       sum(f.revenue)             AS revenue
FROM fact_sales f
JOIN dim_date d ON d.date_key = f.date_key
GROUP BY d.calendar_date, f.currency
ORDER BY d.calendar_date, f.currency;

CREATE VIEW v_sales_by_category AS
SELECT p.category,
       f.currency,
       count(DISTINCT f.order_id) AS orders,
       sum(f.quantity)            AS units,
       sum(f.revenue)             AS revenue
FROM fact_sales f
JOIN dim_product p ON p.product_key = f.product_key
GROUP BY p.category, f.currency
ORDER BY revenue DESC, p.category;

CREATE VIEW v_top_customers AS
SELECT c.customer_id,
       f.currency,
       count(DISTINCT f.order_id)                                       AS orders,
       sum(f.quantity)                                                  AS units,
       sum(f.revenue)                                                   AS revenue,
       rank() OVER (PARTITION BY f.currency ORDER BY sum(f.revenue) DESC) AS revenue_rank
FROM fact_sales f
JOIN dim_customer c ON c.customer_key = f.customer_key
GROUP BY c.customer_id, f.currency
ORDER BY revenue DESC, c.customer_id;

CREATE VIEW v_orders_by_status AS
SELECT s.status,
       s.name,
       count(o.order_id) AS orders
FROM (VALUES (1000::smallint, 'Open'),
             (1100::smallint, 'Paid'),
             (1150::smallint, 'Payment rejected'),
             (1200::smallint, 'Reserved'),
             (1250::smallint, 'Out of stock'),
             (1300::smallint, 'Shipped'),
             (1900::smallint, 'Cancelled')) AS s (status, name)
LEFT JOIN orders o ON o.status = s.status
GROUP BY s.status, s.name
ORDER BY s.status;
