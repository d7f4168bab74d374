"""The `bruin` command line. Kept import-light: `bruin --version` loads nothing but this module (not even
`__future__`)."""

import sys


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from pybruin import __version__

        print(f"bruin {__version__} (pybruin)")
        return
    import gc

    # Loading a command makes some 20,000 objects that live as long as the process: collecting every 700
    # allocations, as Python does by default, walks them again and again for nothing (3% of a run's start).
    gc.set_threshold(50_000)
    from pybruin.cli.app import run_cli

    code = run_cli(args)
    # Everything left is freed at exit anyway; keeping the collector from walking it all saves start-to-finish time.
    gc.freeze()
    sys.exit(code)
