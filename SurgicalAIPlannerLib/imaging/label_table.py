"""Label tables: ``value,name`` CSV files that name the values of a label map."""

from __future__ import annotations

import csv
from pathlib import Path

from .errors import ImageLoadError


def read_label_table(path: Path | str) -> dict[int, str]:
    """{value: name} from a CSV with a ``value,name`` header; label 0 (background) is not listed."""
    path = Path(path)
    table: dict[int, str] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"value", "name"} <= set(reader.fieldnames):
            raise ImageLoadError(path, "a label table needs the columns 'value' and 'name'")
        for line, row in enumerate(reader, start=2):
            try:
                value = int(row["value"])
            except ValueError:
                raise ImageLoadError(path, f"line {line}: label value {row['value']!r} is not a whole number") from None
            if value in table:
                raise ImageLoadError(path, f"line {line}: label value {value} is listed twice")
            table[value] = row["name"].strip()
    return table
