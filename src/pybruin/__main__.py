"""`python -m pybruin` is the `bruin` command."""

from pybruin.cli import main

main()
