"""Tables as data: a DataFrame (or a Series, or a pandas Styler) is shown with one more mime
type, TABLE_MIME, that carries its schema, its first rows as display text and its total size,
so every surface can draw a table of its own instead of receiving HTML. The worker validates
and bounds it again (src/core/table-data.ts); the limits here only keep it small.

Needs pandas and IPython imported (data_stack)."""

import json

from .diagnostics import diag

TABLE_MIME = "application/vnd.sandbot.table+json"
# Rows and columns carried as data: more than any chat surface shows at once (Slack's table
# block takes 100 rows including the header, 20 columns).
MAX_ROWS = 100
MAX_COLUMNS = 50
MAX_CELL_CHARS = 200
MAX_NAME_CHARS = 100
# The table as CSV, for surfaces that cut it: whole when it fits these bounds, else its first
# rows (`csvRows` says how many). It counts in the cell's output budget like any display.
MAX_CSV_BYTES = 256 * 1024
MAX_CSV_ROWS = 20_000


def install(shell):
    """Registers the table formatter with the shell's display formatter."""
    import pandas
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    class TableFormatter(BaseFormatter):
        format_type = Unicode(TABLE_MIME)
        print_method = ObjectName("_repr_sandbot_table_")

    formatter = TableFormatter(parent=shell.display_formatter)
    formatter.for_type(pandas.DataFrame, table_json)
    formatter.for_type(pandas.Series, lambda series: table_json(series.to_frame()))
    try:
        from pandas.io.formats.style import Styler

        formatter.for_type(Styler, lambda styler: table_json(styler.data))
    except ImportError:  # Styler needs jinja2; without it there is nothing to register
        pass
    shell.display_formatter.formatters[TABLE_MIME] = formatter


def table_json(frame):
    """The table mime value of a DataFrame, or None when it cannot be made (the other
    forms of the display still go out)."""
    try:
        return json.dumps(table_data(frame), ensure_ascii=False, allow_nan=False)
    except Exception as error:  # a strange frame must never break the display
        diag("table form failed: %r" % (error,))
        return None


def table_data(frame):
    import pandas

    total_rows, total_columns = frame.shape
    flat = _with_index(frame.iloc[:MAX_ROWS, :MAX_COLUMNS])
    columns = [
        {
            "name": _cut(_column_name(name), MAX_NAME_CHARS),
            "type": str(flat[name].dtype),
            "numeric": bool(
                pandas.api.types.is_numeric_dtype(flat[name].dtype)
                and not pandas.api.types.is_bool_dtype(flat[name].dtype)
            ),
        }
        for name in flat.columns
    ]
    cells = [_column_text(flat.iloc[:, k]) for k in range(flat.shape[1])]
    rows = [[column[i] for column in cells] for i in range(flat.shape[0])]
    csv, csv_rows = _csv(frame)
    index_columns = flat.shape[1] - min(total_columns, MAX_COLUMNS)
    return {
        "columns": columns,
        "rows": rows,
        "totalRows": int(total_rows),
        "totalColumns": int(total_columns) + index_columns,
        "indexColumns": index_columns,
        "csv": csv,
        "csvRows": csv_rows,
    }


def _with_index(frame):
    """The frame with its index as leading columns, unless the index is the default 0..n-1
    (which a reader does not need)."""
    import pandas

    index = frame.index
    if isinstance(index, pandas.RangeIndex) and index.start == 0 and index.step == 1:
        return frame.reset_index(drop=True).set_axis(
            [_column_name(c) for c in frame.columns], axis=1
        )
    names = [name if name is not None else "" for name in index.names]
    flat = frame.copy()
    flat.columns = [_column_name(c) for c in frame.columns]
    levels = [index.get_level_values(k) for k in range(index.nlevels)]
    # reset_index would refuse index names that clash with columns; build it by hand.
    parts = [pandas.Series(level, name=str(name)).reset_index(drop=True) for level, name in zip(levels, names)]
    body = flat.reset_index(drop=True)
    combined = pandas.concat(parts + [body[c] for c in body.columns], axis=1)
    combined.columns = [str(n) for n in names] + list(body.columns)
    return combined


def _column_name(name):
    if isinstance(name, tuple):  # MultiIndex columns
        return " / ".join(str(part) for part in name if str(part) != "")
    return str(name)


def _column_text(series):
    """Each value as pandas would print it (same precision, dates, NaN), trimmed."""
    from pandas.io.formats.format import format_array

    try:
        texts = format_array(series.array, None)
    except Exception:  # pandas' formatter is internal API; plain str is a fine fallback
        texts = [str(value) for value in series]
    return [_cut(str(text).strip(), MAX_CELL_CHARS) for text in texts]


def _csv(frame):
    """(CSV text, rows in it) within MAX_CSV_BYTES: whole, or the first rows that fit."""
    index = not _default_index(frame)
    rows = min(len(frame), MAX_CSV_ROWS)
    while True:
        text = frame.iloc[:rows].to_csv(index=index)
        size = len(text.encode("utf-8"))
        if size <= MAX_CSV_BYTES or rows == 0:
            return text, rows
        # Fewer rows in proportion, and a little fewer still, so this ends in a step or two.
        rows = min(rows - 1, int(rows * MAX_CSV_BYTES / size * 0.95))


def _default_index(frame):
    import pandas

    index = frame.index
    return isinstance(index, pandas.RangeIndex) and index.start == 0 and index.step == 1


def _cut(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "…"
