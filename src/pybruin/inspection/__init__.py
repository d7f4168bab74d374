"""What the inspection commands (`validate`, `secrets check/list`, `connections`) do, without click.

Each module takes plain settings and returns typed results; `pybruin.cli` only parses flags and prints.
"""
