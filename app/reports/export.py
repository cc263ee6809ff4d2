"""A report's rows as CSV or as an XLSX spreadsheet with typed columns (XlsxWriter)."""

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import xlsxwriter

from app.reports.wait_times import FIGURES

Row = dict[str, Any]

_MINUTE_COLUMNS = {name for name in FIGURES if name.endswith("_min") or name.endswith("_pct")}


def as_csv(rows: Sequence[Row], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(name) is None else row[name] for name in columns])
    return buffer.getvalue()


def as_xlsx(rows: Sequence[Row], columns: Sequence[str], *, title: str) -> bytes:
    """One sheet: a header row, then dates as dates, counts as integers, minutes as numbers."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(title[:31])
    header = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    decimal = workbook.add_format({"num_format": "0.00"})
    for index, name in enumerate(columns):
        sheet.write_string(0, index, name, header)
        sheet.set_column(index, index, max(10, len(name) + 2))
    for line, row in enumerate(rows, start=1):
        for index, name in enumerate(columns):
            value = row.get(name)
            if value is None:
                sheet.write_blank(line, index, None)
            elif isinstance(value, date):
                sheet.write_datetime(line, index, value, day)
            elif isinstance(value, int | float) and name in _MINUTE_COLUMNS:
                sheet.write_number(line, index, value, decimal)
            elif isinstance(value, int | float):
                sheet.write_number(line, index, value)
            else:
                sheet.write_string(line, index, str(value))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
