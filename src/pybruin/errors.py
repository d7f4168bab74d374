"""The one exception type that reaches users."""


class BruinError(Exception):
    """An error the user can act on: printed as one line, exit 1, no traceback unless --debug."""
