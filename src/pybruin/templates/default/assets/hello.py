""" @bruin
name: hello
type: python
description: Receives the GREETING_API_KEY connection as an environment variable of that name.
secrets:
  - key: GREETING_API_KEY
@bruin """

import os

# A secret is for using, never for printing: say whether it is there, not what it is.
api_key = os.environ.get("GREETING_API_KEY", "")
if api_key:
    print("Hello from Bruin! GREETING_API_KEY is set.")
else:
    print("Hello from Bruin! GREETING_API_KEY is empty: export it before `bruin run` to use it.")
