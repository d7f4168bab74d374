/* @bruin
name: lineage.users
type: duckdb.sql
description: People with the name of their country.
materialization:
  type: table
depends:
  - lineage.people
  - lineage.country
@bruin */

SELECT p.id, p.name, c.name AS country
FROM lineage.people AS p
JOIN lineage.country AS c ON c.id = p.country_id
