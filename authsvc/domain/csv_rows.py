"""Reading an uploaded CSV text into rows, for every importer (bulk enrollment, user import,
token import)."""

from __future__ import annotations

import csv
import io

from authsvc.errors import InvalidParameter


def csv_rows(text: str) -> list[list[str]]:
    """Every row of `text`, whatever its line endings (a lone CR ends a row, as in files from
    old Macs; quoted newlines stay in their field).

    Raises InvalidParameter naming `csv` for a file the csv module refuses (a field over its
    size limit, a stray quote in strict places), never csv.Error (schemathesis found the lone
    CR turning into a 500).
    """
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InvalidParameter(f"csv ({exc})") from None
