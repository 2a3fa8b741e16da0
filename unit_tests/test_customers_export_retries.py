"""Customers export: finding the export a failed create made, and downloading again without duplicates."""

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_customerio.streams.customers import (
    DownloadCutOff,
    download_with_retries,
    export_made_since,
    newest_export_id,
)

LISTED = [
    {"id": 3, "type": "customers", "failed": True},
    {"id": 5, "type": "deliveries"},
    {"id": 7, "type": "customers", "failed": True},
    {"id": 9, "type": "customers", "failed": False},
    {"id": 8, "type": "customers", "failed": False},
]


def test_newest_export_id_is_the_highest_listed_or_0():
    assert newest_export_id(LISTED) == 9
    assert newest_export_id([]) == 0


def test_export_made_since_is_the_first_customers_export_after_the_newest_that_has_not_failed():
    assert export_made_since(LISTED, newest_before=5) == {"id": 8, "type": "customers", "failed": False}
    assert export_made_since(LISTED, newest_before=9) is None


def flaky(files):
    """A download per attempt: each file is its rows, then None for a transfer cut off there."""
    attempts = iter(files)

    def download(url):
        for row in next(attempts):
            if row is None:
                raise DownloadCutOff("connection reset")
            yield {"row": row, "url": url}

    return download


def test_given_cut_offs_then_rows_already_emitted_are_skipped_and_each_attempt_gets_a_fresh_link():
    links = iter(["link-1", "link-2", "link-3"])
    logged, slept = [], []

    records = list(
        download_with_retries(links, flaky([[1, 2, None], [1, None], [1, 2, 3]]), logged.append, sleep=slept.append)
    )

    assert records == [{"row": 1, "url": "link-1"}, {"row": 2, "url": "link-1"}, {"row": 3, "url": "link-3"}]
    assert slept == [2.0, 4.0]
    assert logged[0].startswith("Downloading the customers export file failed after 2 rows (connection reset)")


def test_given_every_attempt_cut_off_then_a_transient_error_after_the_last():
    links = iter(f"link-{n}" for n in range(4))

    with pytest.raises(AirbyteTracedException) as raised:
        list(download_with_retries(links, flaky([[None]] * 4), lambda _: None, sleep=lambda _: None))

    assert raised.value.message == (
        "Downloading the customers export file failed 4 times, the last after 0 rows (connection reset). "
        "Run the sync again."
    )
