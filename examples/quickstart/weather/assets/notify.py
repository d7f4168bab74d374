""" @bruin
name: notify
connection: duckdb-default
depends:
  - reports.warm_cities
secrets:
  - key: WEATHER_API_KEY
    inject_as: API_KEY
  - key: SLACK_WEBHOOK
@bruin """

import json
import os

import duckdb

# The asset's connection arrives as JSON, like every non-generic secret.
database = json.loads(os.environ["duckdb-default"])
with duckdb.connect(database["path"], read_only=True) as connection:
    warm = connection.execute("SELECT city, temperature FROM reports.warm_cities").fetchall()

print(f"pipeline {os.environ['BRUIN_PIPELINE']}, interval {os.environ['BRUIN_START_DATE']}..{os.environ['BRUIN_END_DATE']}")
print("warm cities:", ", ".join(f"{city} ({temperature})" for city, temperature in warm))
print("API key set:", bool(os.environ["API_KEY"]))
# pybruin masks every secret it injected, in any common encoding, so this line prints ****:
print("posting the report to", os.environ["SLACK_WEBHOOK"])
print("connection types:", json.loads(os.environ["BRUIN_CONNECTION_TYPES"]))
