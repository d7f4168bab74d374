/* @bruin
name: raw.orders
type: duckdb.sql
description: Orders as they arrive, materialised as a table in duckdb.db.
materialization:
  type: table
@bruin */

SELECT * FROM (VALUES
    (1, 'alice', 30.0, DATE '2024-01-01'),
    (2, 'bob',   12.5, DATE '2024-01-01'),
    (3, 'alice',  8.0, DATE '2024-01-02')
) AS orders(order_id, customer, amount, ordered_on)
