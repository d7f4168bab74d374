""" @bruin
name: notify
depends:
  - reports.warm_cities
secrets:
  - key: WEATHER_API_KEY
    inject_as: API_KEY
  - key: SLACK_WEBHOOK
@bruin """

import json
import os

api_key = os.environ["API_KEY"]
webhook = os.environ["SLACK_WEBHOOK"]
print(f"pipeline {os.environ['BRUIN_PIPELINE']}, interval {os.environ['BRUIN_START_DATE']}..{os.environ['BRUIN_END_DATE']}")
print("API key set:", bool(api_key))
# pybruin masks every secret it injected, in any common encoding, so this line prints ****:
print("posting the report to", webhook)
print("connection types:", json.loads(os.environ["BRUIN_CONNECTION_TYPES"]))
