""" @bruin
name: python.goodbye
type: python
depends:
  - python.hello
@bruin """

import os

print(f"Goodbye from {os.environ['BRUIN_ASSET']}, after python.hello")
