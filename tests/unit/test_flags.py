"""Go-style flags (urfave/cli's reading, reference §4) turned into click's spelling."""

from __future__ import annotations

import click
import pytest

from pybruin.cli.flags import go_style

PARAMS = [
    click.Option(["-e", "--env", "--environment", "environment"]),
    click.Option(["-o", "--output"]),
    click.Option(["--downstream"], is_flag=True),
    click.Option(["--var"], multiple=True),
    click.Option(["--mask-credentials"], type=click.BOOL, default=True, is_flag=False, flag_value=True),
    click.Option(["--color/--no-color"], default=True),
    click.Argument(["paths"], nargs=-1),
]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-env", "prod", "p"], ["--env", "prod", "p"]),
        (["-environment=prod"], ["--environment", "prod"]),
        (["--o", "json"], ["-o", "json"]),
        (["p", "-o", "json", "q"], ["p", "-o", "json", "q"]),
        (["  p  ", "--env", " x "], ["p", "--env", " x "]),  # positionals trimmed, values kept
        (["--env", "-dash-value"], ["--env", "-dash-value"]),
        (["--downstream=false", "p"], ["p"]),
        (["--downstream=T"], ["--downstream"]),
        (["--color=false"], ["--no-color"]),
        (["--mask-credentials", "false"], ["--mask-credentials", "false"]),  # `false` stays a positional
        (["--mask-credentials=false"], ["--mask-credentials", "false"]),
        (["--var", "a=1", "--var", "b=2,3"], ["--var", "a=1", "--var", "b=2,3"]),
        (["-o", "json", "", "--ignored"], ["-o", "json"]),
        (["p", "-", "q"], ["p"]),
        (["--", "-x", "p"], ["--", "-x", "p"]),
        (["-1", "--env", "x"], ["--", "-1", "--env", "x"]),
    ],
)
def test_arguments_are_read_as_upstream_reads_them(args, expected):
    assert go_style(PARAMS, args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-nope"], "flag provided but not defined: -nope"),
        (["--rf"], "flag provided but not defined: -rf"),
        (["--env"], "flag needs an argument: --env"),
        (["--downstream=maybe"], 'invalid value "maybe" for flag -downstream: parse error'),
    ],
)
def test_bad_flags_are_named_as_upstream_names_them(args, message):
    with pytest.raises(click.UsageError) as raised:
        go_style(PARAMS, args)
    assert raised.value.message == message


def test_a_group_leaves_the_subcommands_arguments_alone():
    debug = [click.Option(["--debug"], is_flag=True)]
    assert go_style(debug, ["-debug", "run", "-env", "x"], stop_at_positional=True) == ["--debug", "run", "-env", "x"]


def test_every_command_reads_flags_go_style():
    from pybruin.cli.app import LazyCommands, cli
    from pybruin.cli.flags import BruinCommand, BruinGroup

    ctx = click.Context(cli)
    pending = [cli.get_command(ctx, name) for name in LazyCommands.COMMANDS]
    while pending:
        command = pending.pop()
        assert isinstance(command, BruinCommand | BruinGroup), command.name
        if isinstance(command, click.Group):
            pending.extend(command.commands.values())
