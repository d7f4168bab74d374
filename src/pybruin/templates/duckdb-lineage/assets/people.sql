/* @bruin
name: lineage.people
type: duckdb.sql
materialization:
  type: table
@bruin */

SELECT * FROM (VALUES (1, 'Ana', 1), (2, 'Kenji', 2), (3, 'Lucia', 1)) AS people(id, name, country_id)
