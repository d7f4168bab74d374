/* @bruin
name: reports.daily_revenue
type: duckdb.sql
description: Revenue per day, a view over raw.orders.
materialization:
  type: view
depends:
  - raw.orders
@bruin */

SELECT ordered_on, SUM(amount) AS revenue, COUNT(*) AS orders
FROM raw.orders
GROUP BY ordered_on
