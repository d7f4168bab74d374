/* @bruin
name: raw.readings
type: duckdb.sql
materialization:
  type: table
@bruin */

SELECT * FROM (VALUES
    ('Lisbon', DATE '2024-06-01', 24.5),
    ('Oslo', DATE '2024-06-01', 13.0),
    ('Cairo', DATE '2024-06-01', 35.2),
    ('Lima', DATE '2024-06-01', 17.8)
) AS t(city, day, temperature)
