"""Customers, export method: reading the export file (CSV, maybe gzip) into records."""

import gzip
import io

import pytest

from source_customerio.export_file import ChunkStream, ExportFileError, open_text, read_customers_csv, row_record

CSV = (
    "cio_id,id,email,plan,company\n"
    'a1,1,ada@example.com,pro,"Widgets, ""Global"" Ltd"\n'
    'a2,,eve@example.com,free,"Initech\nLabs"\n'
    "a3,3,,,Acme\n"
).encode()

RECORDS = [
    {
        "cio_id": "a1",
        "id": "1",
        "email": "ada@example.com",
        "attributes": {
            "cio_id": "a1",
            "id": "1",
            "email": "ada@example.com",
            "plan": "pro",
            "company": 'Widgets, "Global" Ltd',
        },
    },
    {
        "cio_id": "a2",
        "id": None,
        "email": "eve@example.com",
        "attributes": {"cio_id": "a2", "email": "eve@example.com", "plan": "free", "company": "Initech\nLabs"},
    },
    {"cio_id": "a3", "id": "3", "email": None, "attributes": {"cio_id": "a3", "id": "3", "company": "Acme"}},
]


def read(data: bytes, names=(), chunk_size=7):
    chunks = (data[i : i + chunk_size] for i in range(0, len(data), chunk_size))
    return list(read_customers_csv(open_text(chunks), names))


@pytest.mark.parametrize(
    "data", [CSV, gzip.compress(CSV), b"\xef\xbb\xbf" + CSV], ids=["plain", "gzip", "byte-order-mark"]
)
def test_file_rows_become_records(data):
    assert read(data) == RECORDS


def test_chunks_of_one_byte_give_the_same_records():
    assert read(gzip.compress(CSV), chunk_size=1) == RECORDS


def test_attribute_selection_keeps_listed_names_only():
    assert [record["attributes"] for record in read(CSV, names=("plan", "email"))] == [
        {"plan": "pro", "email": "ada@example.com"},
        {"plan": "free", "email": "eve@example.com"},
        {},
    ]


def test_row_record_leaves_empty_cells_out():
    assert row_record(["cio_id", "id", "email", "plan"], ["a9", "", "", ""], ()) == {
        "cio_id": "a9",
        "id": None,
        "email": None,
        "attributes": {"cio_id": "a9"},
    }


def test_blank_lines_are_skipped():
    assert read(b"cio_id,plan\na1,pro\n\na2,free\n") == [
        {"cio_id": "a1", "id": None, "email": None, "attributes": {"cio_id": "a1", "plan": "pro"}},
        {"cio_id": "a2", "id": None, "email": None, "attributes": {"cio_id": "a2", "plan": "free"}},
    ]


def test_header_only_file_has_no_records():
    assert read(b"cio_id,id,email\n") == []


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the export file is empty: it has no header row"),
        (b"id,email\n1,a@example.com\n", "it has no cio_id column; the columns seen: id, email"),
        (b"cio_id,plan\na1,pro,extra\n", "line 2 of the export file has 3 cells, the header has 2"),
    ],
    ids=["empty", "no-cio_id", "ragged-row"],
)
def test_unreadable_files_are_named_errors(data, message):
    with pytest.raises(ExportFileError) as error:
        read(data)
    assert str(error.value) == message


def test_truncated_gzip_raises_eof():
    with pytest.raises(EOFError):
        read(gzip.compress(CSV)[:-12])


def test_chunk_stream_reads_across_chunks():
    stream = io.BufferedReader(ChunkStream([b"ab", b"", b"cde", b"f"]), 4)

    assert stream.read() == b"abcdef"
