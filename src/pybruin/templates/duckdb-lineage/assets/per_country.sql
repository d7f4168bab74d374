/* @bruin
name: lineage.per_country
type: duckdb.sql
materialization:
  type: view
depends:
  - lineage.users
@bruin */

SELECT country, COUNT(*) AS users FROM lineage.users GROUP BY country
