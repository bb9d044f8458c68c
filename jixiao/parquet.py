"""The corpus package's Parquet files: an Arrow schema from the one schema (types, and each
column's Chinese title, description and unit as field metadata) and row batches from SQLite rows.
Arrays and objects stay JSON text, as in SQLite and the CSV."""
from __future__ import annotations

from .declarations import Table


def arrow_schema(t: Table):
    import pyarrow as pa

    kinds = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
             "array": pa.string(), "object": pa.string()}  # array/object: JSON text, as in SQLite and the CSV
    fields = []
    for f in t.fields:
        meta = {"title": f.zh, "description": f.en}
        if f.unit:
            meta["unit"] = f.unit
        if f.type in ("array", "object"):
            meta["json"] = f.type
        fields.append(pa.field(f.name, kinds[f.type], nullable=f.name not in t.primary_key and not f.required,
                               metadata=meta))
    return pa.schema(fields, metadata={"title": f"{t.zh} {t.en}", "description": t.en_description})


def arrow_batch(t: Table, schema, rows: list[tuple]):
    import pyarrow as pa

    columns = list(zip(*rows)) if rows else [() for _ in t.fields]
    arrays = []
    for f, field, col in zip(t.fields, schema, columns):
        if f.type == "boolean":
            col = [None if v is None else bool(v) for v in col]
        elif f.type == "number":
            col = [None if v is None else float(v) for v in col]
        arrays.append(pa.array(col, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)



LONG_TEXT = 64  # mean characters past which a string column is not dictionary-encoded


def dictionary_columns(t: Table, rows: list[tuple]) -> list[str]:
    """Columns worth a Parquet dictionary: all but string columns of long free text (report
    text, cell text), where a dictionary is one more copy in memory and saves nothing. Decided on
    the first row group, so by the data alone (the same bytes every time)."""
    out = []
    for i, f in enumerate(t.fields):
        if f.type in ("string", "array", "object"):
            total = sum(len(r[i]) for r in rows if isinstance(r[i], str))
            if rows and total / len(rows) > LONG_TEXT:
                continue
        out.append(f.name)
    return out
