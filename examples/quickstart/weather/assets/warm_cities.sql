/* @bruin
name: reports.warm_cities
type: duckdb.sql
materialization:
  type: table
depends:
  - raw.readings
@bruin */

SELECT city, temperature
FROM raw.readings
WHERE temperature >= {{ var.min_temperature }}
ORDER BY temperature DESC
