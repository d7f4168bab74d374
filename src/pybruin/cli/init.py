"""`bruin init [template] [folder]`: a pipeline from a template, placed where upstream places it.

Inside a git repository the pipeline goes to `<cwd>/<folder>` and `.bruin.yml` to the repository's root.
Outside one, a new `bruin/` project folder is made (a git repository) unless `--in-place` makes the
current folder the project.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from pybruin.cli.app import global_options
from pybruin.cli.flags import BruinCommand
from pybruin.errors import BruinError

_LOCATION_NOTES = {
    "repo": "This is your Git repo root, so it may sit several levels above the pipeline folder.",
    "created": "This is the new Bruin project root created for you.",
    "in-place": "This is your Bruin project root.",
}


@click.command("init", cls=BruinCommand)
@click.argument("template", default="default")
@click.argument("folder", default="")
@click.option("--in-place", is_flag=True, help="Outside git: make this folder the project (no bruin/ folder).")
@global_options
def command(template: str, folder: str, in_place: bool) -> None:
    """Create a pipeline from TEMPLATE (default: default) in FOLDER (default: the template's name)."""
    from pybruin.scaffold import create_project, git_work_tree
    from pybruin.templates import DEFAULT_FOLDERS, TEMPLATES

    if template not in TEMPLATES:
        raise BruinError(f"Template '{template}' not found")
    folder = folder or DEFAULT_FOLDERS.get(template, template)
    if os.sep in folder or "/" in folder or folder in (".", ".."):
        raise BruinError("Traversing up or down in the folder structure is not allowed, provide base folder name only.")
    cwd = Path.cwd()
    if git_work_tree(cwd) is not None:
        project, shown, note = cwd, folder, "repo"
    elif in_place:
        project, shown, note = cwd, str(cwd / folder), "in-place"
    else:
        project, shown, note = cwd / "bruin", os.path.join("bruin", folder), "created"
    created = create_project(project, template, folder)
    click.echo(f"\n\nA new '{template}' pipeline created successfully in folder '{shown}'.")
    if created.config is None:
        click.echo(f"\nPipeline: {created.pipeline}")
        click.echo("\nNext steps:\n  1. Create a .bruin.yml with your connection credentials")
    else:
        click.echo(f"\nConfig:   {created.config}\nPipeline: {created.pipeline}")
        if not created.config_existed:
            click.echo(f"\nCreated .bruin.yml at {created.config}.")
        else:
            state = "merged template config" if created.config_merged else "left unchanged"
            click.echo(f"\nUsing existing .bruin.yml at {created.config} ({state}).")
        click.echo(_LOCATION_NOTES[note])
        click.echo(f"\nNext steps:\n  1. Add your connection credentials to {created.config}")
    click.echo(f"  2. Run: bruin validate {shown}\n  3. Run: bruin run {shown}\n")
