/* @bruin
name: example.numbers
type: duckdb.sql
description: A few rows to start from, materialised as a table in duckdb.db.
materialization:
  type: table
@bruin */

SELECT 1 AS id, 'one' AS label
UNION ALL
SELECT 2 AS id, 'two' AS label
UNION ALL
SELECT 3 AS id, 'three' AS label
