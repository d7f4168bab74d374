""" @bruin
name: python.hello
type: python
description: Prints the run's interval; every asset gets it as BRUIN_* variables.
@bruin """

import os

print(f"Hello from Python, for {os.environ['BRUIN_START_DATE']} to {os.environ['BRUIN_END_DATE']}")
