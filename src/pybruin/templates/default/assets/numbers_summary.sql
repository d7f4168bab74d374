/* @bruin
name: example.numbers_summary
type: duckdb.sql
description: Runs after example.numbers, because it depends on it.
materialization:
  type: table
depends:
  - example.numbers
@bruin */

SELECT COUNT(*) AS row_count, SUM(id) AS id_total
FROM example.numbers
