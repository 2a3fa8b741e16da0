"""Reading a customers export file: CSV, possibly gzip, streamed row by row into customer records.

Pure: takes byte chunks, yields records. Nothing is held beyond one chunk and one row, so memory
stays flat however many people the file has.
"""

import csv
import gzip
import io
import itertools
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

GZIP_MAGIC = b"\x1f\x8b"
TEXT_BUFFER_BYTES = 1 << 20


class ExportFileError(ValueError):
    """An export file this connector cannot read."""


class ChunkStream(io.RawIOBase):
    """A readable binary file over an iterator of byte chunks (an HTTP body being streamed)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _head(chunks: Iterable[bytes], size: int) -> Tuple[bytes, Iterator[bytes]]:
    """The first `size` bytes (fewer if the file is shorter), and all the chunks again."""
    rest = iter(chunks)
    head = b""
    for chunk in rest:
        head += chunk
        if len(head) >= size:
            break
    return head, itertools.chain([head], rest)


def open_text(chunks: Iterable[bytes]) -> io.TextIOBase:
    """The file's text: gunzipped when it starts with the gzip magic bytes, decoded as UTF-8."""
    head, chunks = _head(chunks, len(GZIP_MAGIC))
    raw = io.BufferedReader(ChunkStream(chunks), TEXT_BUFFER_BYTES)
    binary = gzip.GzipFile(fileobj=raw) if head.startswith(GZIP_MAGIC) else raw
    # utf-8-sig: a byte-order mark, which spreadsheet tools write, is not part of the first column's name.
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def select_attributes(attributes: Mapping[str, Any], names: Sequence[str]) -> Mapping[str, Any]:
    """Only the attributes named in `customers.attributes`; all of them when it is empty."""
    if not names:
        return attributes
    return {name: attributes[name] for name in names if name in attributes}


def row_record(header: Sequence[str], row: Sequence[str], names: Sequence[str]) -> Dict[str, Any]:
    """One CSV row as a customer record.

    A CSV cell cannot tell an empty value from a missing attribute, so empty cells are left out.
    Identifier columns are also attributes, as in the API's `attributes` object.
    """
    # strict=False: a short row leaves its last columns empty, as a spreadsheet would read it.
    attributes = {column: value for column, value in zip(header, row, strict=False) if value != ""}
    return {
        "cio_id": attributes.get("cio_id"),
        "id": attributes.get("id"),
        "email": attributes.get("email"),
        "attributes": select_attributes(attributes, names),
    }


def read_customers_csv(text: Iterable[str], names: Sequence[str]) -> Iterator[Dict[str, Any]]:
    """Customer records from an export file's text, in file order."""
    rows = csv.reader(text)
    header: Optional[List[str]] = next(rows, None)
    if header is None:
        raise ExportFileError("the export file is empty: it has no header row")
    if "cio_id" not in header:
        raise ExportFileError(f"it has no cio_id column; the columns seen: {', '.join(header[:50]) or 'none'}")
    for row in rows:
        if not row:  # a blank line
            continue
        if len(row) != len(header):
            raise ExportFileError(
                f"line {rows.line_num} of the export file has {len(row)} cells, the header has {len(header)}"
            )
        yield row_record(header, row, names)
