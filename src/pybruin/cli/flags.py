"""Reading flags the way Bruin users (and the VS Code extension) type them: Go-style, as urfave/cli does.

Upstream's parser treats `-env prod` like `--env prod`, takes `--flag=value` and `-flag=value`, lets flags
follow positional arguments, trims whitespace around each argument, stops at `--`, and stops *and drops
everything left* at an empty argument or a lone `-` (which is why the extension's `version -o json ""`
works). Click would read `-env` as `-e nv`. So each command rewrites its arguments into click's spelling
before click sees them, using the command's own options — and names an unknown flag the way upstream does
(`flag provided but not defined: -name`), which the extension looks for.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

#: Go's strconv.ParseBool, for `--flag=<value>` on boolean flags.
GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


class NoHelpTopic(click.ClickException):
    """An unknown subcommand: upstream prints `No help topic for '<name>'` and exits 3."""

    exit_code = 3

    def __init__(self, name: str) -> None:
        super().__init__(f"No help topic for '{name}'")


def go_style(params: Sequence[click.Parameter], args: Sequence[str], *, stop_at_positional: bool = False) -> list[str]:
    """`args` in click's spelling for a command with `params`.

    `stop_at_positional` is for groups: what follows the subcommand's name is the subcommand's to read.
    """
    options: dict[str, tuple[click.Option, str, bool]] = {}
    for param in params:
        if isinstance(param, click.Option):
            for spelling in param.opts:
                options[spelling.lstrip("-")] = (param, spelling, True)
            for spelling in param.secondary_opts:
                options[spelling.lstrip("-")] = (param, spelling, False)
    out: list[str] = []
    index = 0
    while index < len(args):
        argument = args[index].strip()
        index += 1
        if argument in ("", "-"):
            break
        if argument == "--" or (argument.startswith("-") and not argument.lstrip("-")[:1].isalpha()):
            out.append("--")
            out.extend(item.strip() for item in args[index - (argument != "--") :])
            break
        if not argument.startswith("-"):
            out.append(argument)
            if stop_at_positional:
                out.extend(args[index:])
                break
            continue
        name, has_value, value = argument.lstrip("-").partition("=")
        found = options.get(name)
        if found is None:
            raise click.UsageError(f"flag provided but not defined: -{name}")
        option, spelling, positive = found
        if option.is_flag and not option.multiple:
            if has_value:
                if value not in GO_BOOLS:
                    raise click.UsageError(f'invalid value "{value}" for flag -{name}: parse error')
                if GO_BOOLS[value] != positive:
                    opposite = option.secondary_opts if positive else option.opts
                    out.extend(opposite[:1])  # a flag without a "--no-" form stays off
                    continue
            out.append(spelling)
        elif option.count:
            out.append(spelling)
        elif has_value:
            out.extend((spelling, value))
        elif option._flag_needs_value:  # an optional value (`--mask-credentials[=false]`): never the next argument
            out.append(spelling)
        elif index < len(args):
            out.extend((spelling, args[index]))
            index += 1
        else:
            raise click.UsageError(f"flag needs an argument: {argument}")
    return out


class BruinCommand(click.Command):
    """A command whose arguments are read Go-style (see the module docstring)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, go_style(self.get_params(ctx), args))


class BruinGroup(click.Group):
    """A command group: Go-style options before the subcommand; an unknown subcommand is upstream's error."""

    command_class = BruinCommand
    group_class = type  # nested groups are BruinGroups too

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, go_style(self.get_params(ctx), args, stop_at_positional=True))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        command = self.get_command(ctx, name)
        if command is None and not ctx.resilient_parsing:
            raise NoHelpTopic(name)
        return name, command, args[1:]
