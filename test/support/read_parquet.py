"""Reads Parquet files with pyarrow and prints, as JSON, what a reader of the curated zone sees:
each file's columns (Arrow type as pyarrow names it, nullability), row groups and rows."""
import datetime
import json
import sys

import pyarrow.parquet as pq


def plain(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError(f"cannot show {type(value)}")


files = []
for path in sys.argv[1:]:
    parquet = pq.ParquetFile(path)
    table = parquet.read()
    files.append({
        "columns": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in table.schema],
        "rowGroups": parquet.metadata.num_row_groups,
        "rows": table.to_pylist(),
    })
print(json.dumps(files, default=plain))
