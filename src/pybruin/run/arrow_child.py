"""Runs a materializing Python asset inside its own interpreter and sends what `materialize()` returns to
pybruin as an Arrow IPC stream, over the pipe descriptor named by `PYBRUIN_ARROW_FD`.

Started as `python arrow_child.py <asset file> <module name>` by the interpreter of the asset's environment,
so it needs nothing but the standard library and pyarrow (never pybruin itself). The asset is imported as
upstream imports it, under its module name: its top-level code runs, its `if __name__ == "__main__":`
block does not, and `sys.path[0]` is the asset's folder, as for `python <file>`. The descriptor is taken out
of the environment and made non-inheritable before any of the asset's code runs, so nothing the asset
starts can write to it. Schema and field metadata (pandas' own, or anything the asset set) are dropped:
only column names, types and values cross. Nothing is written for `None` or an empty result, and nothing
ever goes to a file: the data is never on disk between the two processes.

What `materialize()` may return is upstream's list: a pandas or polars DataFrame, a pyarrow Table, a list
or tuple of dicts or of Tables, or any other iterable (a generator) yielding dicts, lists of dicts or
Tables. A wrong return type or mixed schemas is one line on stderr (upstream's texts) and exit status 1.
"""

import importlib.util
import os
import sys

FD_VARIABLE = "PYBRUIN_ARROW_FD"


class ReturnError(Exception):
    """What `materialize()` returned cannot become one Arrow stream; the message is the whole report."""


def _plain(table):
    """The table without schema or field metadata."""
    import pyarrow as pa

    if table.schema.metadata is None and not any(field.metadata for field in table.schema):
        return table
    return table.cast(pa.schema([field.remove_metadata() for field in table.schema]))


def _tables(result):
    """`materialize()`'s result as pyarrow Tables of one schema (a lazily consumed iterator)."""
    import pyarrow as pa

    if result is None:
        return
    kind = type(result)
    if kind.__name__ == "DataFrame" and "polars" in kind.__module__:
        yield result.to_arrow()
    elif kind.__name__ == "DataFrame" and "pandas" in kind.__module__:
        yield pa.Table.from_pandas(result)
    elif isinstance(result, pa.Table):
        yield result
    elif isinstance(result, (list, tuple)):
        if result and isinstance(result[0], pa.Table):
            yield from result
        elif result:
            yield pa.Table.from_pylist(list(result))
    elif hasattr(result, "__iter__") and not isinstance(result, (str, bytes)):
        yield from _from_iterable(result)
    else:
        raise ReturnError(f"Unsupported return type: {kind}")


def _from_iterable(items):
    """Yielded dicts, pages of dicts and Tables as Tables: leading rows are held until their inferred schema
    has no null-typed column, then that schema is kept for the rows after them; a Table's schema wins."""
    import pyarrow as pa

    locked, pending = None, []
    for item in items:
        if isinstance(item, pa.Table):
            if pending:
                yield pa.Table.from_pylist(pending, schema=item.schema)
                pending = []
            locked = locked or item.schema
            yield item
            continue
        rows = list(item) if isinstance(item, (list, tuple)) else [item]
        if not rows:
            continue
        if locked is not None:
            yield pa.Table.from_pylist(rows, schema=locked)
            continue
        pending.extend(rows)
        table = pa.Table.from_pylist(pending)
        if not any(pa.types.is_null(field.type) for field in table.schema):
            locked, pending = table.schema, []
            yield table
    if pending:
        yield pa.Table.from_pylist(pending)


def send(result, sink) -> None:
    """Write `result` to `sink` as one Arrow IPC stream; nothing at all when it holds no table."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    writer = schema = None
    for table in _tables(result):
        if not isinstance(table, pa.Table):
            raise ReturnError(f"Unsupported yielded type: {type(table)}. expected pyarrow.Table.")
        table = _plain(table)
        if writer is None:
            schema = table.schema
            writer = ipc.new_stream(sink, schema)
        elif not table.schema.equals(schema):
            raise ReturnError("All yielded pyarrow Tables must have the same schema.")
        writer.write_table(table)
    if writer is not None:
        writer.close()


def main() -> None:
    fd = int(os.environ.pop(FD_VARIABLE))
    os.set_inheritable(fd, False)
    path, module_name = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[1:2]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    materialize = getattr(module, "materialize", None)
    if not callable(materialize):
        raise ReturnError(f"{path} has no materialize() function")
    result = materialize()
    with os.fdopen(fd, "wb", buffering=1 << 20) as sink:
        send(result, sink)


if __name__ == "__main__":
    try:
        main()
    except ReturnError as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
