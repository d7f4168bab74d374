/* @bruin
name: lineage.country
type: duckdb.sql
materialization:
  type: table
columns:
  - name: id
    type: integer
    primary_key: true
  - name: name
    type: varchar
@bruin */

SELECT * FROM (VALUES (1, 'Spain'), (2, 'Japan')) AS country(id, name)
