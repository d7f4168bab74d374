"""Plain aligned tables, for output that is read in logs and pipes rather than on a terminal."""

from __future__ import annotations

from collections.abc import Sequence


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, header first, no trailing spaces."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    )


def light_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A box-drawn table like upstream's (go-pretty's light style): header upper-cased, one space of padding."""
    head = [cell.upper() for cell in header]
    widths = [max(len(cell) for cell in column) for column in zip(head, *rows, strict=True)]

    def rule(left: str, middle: str, right: str) -> str:
        return left + middle.join("─" * (width + 2) for width in widths) + right

    def line(cells: Sequence[str]) -> str:
        return "│" + "│".join(f" {cell.ljust(width)} " for cell, width in zip(cells, widths, strict=True)) + "│"

    return "\n".join([rule("┌", "┬", "┐"), line(head), rule("├", "┼", "┤"), *map(line, rows), rule("└", "┴", "┘")])
