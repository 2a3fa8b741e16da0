"""What this connector relies on in the CDK beyond its public API, each pinned by a test that fails
on the day a CDK upgrade changes it."""

import inspect
import time
from typing import List

import airbyte_cdk.entrypoint
import pytest
import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.exceptions import UserDefinedBackoffException
from airbyte_cdk.sources.streams.http.rate_limiting import user_defined_backoff_handler

from source_customerio.entrypoint import run_entrypoint
from source_customerio.errors import cdk_backoff_value
from source_customerio.source import STATE_FILE_ERRORS
from testkit.connector import recorded_cdk_sleeps


def send_retried_once(backoff: float) -> List[float]:
    """Send through the CDK's user-defined backoff: the first attempt asks to back off `backoff`
    seconds, the second succeeds. The moments of the two attempts."""
    request = requests.Request("GET", "https://api.customer.io/v1/campaigns").prepare()
    attempts: List[float] = []

    def send():
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise UserDefinedBackoffException(backoff=backoff, request=request, response=None)
        return "sent"

    assert user_defined_backoff_handler(max_tries=2)(send)() == "sent"
    return attempts


def test_given_backoff_value_then_cdk_sleeps_it_plus_the_second_cdk_backoff_value_takes_off():
    with recorded_cdk_sleeps() as slept:
        send_retried_once(cdk_backoff_value(1.3))

    assert slept == [pytest.approx(1.3)]


def test_given_recorded_cdk_sleeps_then_the_cdk_retry_wait_is_recorded_not_slept():
    with recorded_cdk_sleeps() as slept:
        attempts = send_retried_once(30)

    assert slept == [31] and attempts[1] - attempts[0] < 1


def body_lines(function) -> List[str]:
    """The statements of a function: no signature, docstring, comments or blank lines."""
    lines = [line.split("  #")[0].strip() for line in inspect.getsource(function).splitlines()[1:]]
    return [line for line in lines if line and not line.startswith(("#", '"""'))]


def test_cdk_launch_is_still_what_run_entrypoint_repeats_for_our_entrypoint():
    assert body_lines(airbyte_cdk.entrypoint.launch) == [
        "source_entrypoint = AirbyteEntrypoint(source)",
        "parsed_args = source_entrypoint.parse_args(args)",
        "with PRINT_BUFFER:",
        "for message in source_entrypoint.run(parsed_args):",
        'print(f"{message}\\n", end="")',
    ]
    assert body_lines(run_entrypoint)[-4:] == [
        "parsed_args = entrypoint.parse_args(args)",
        "with PRINT_BUFFER:",
        "for message in entrypoint.run(parsed_args):",
        'sys.stdout.write(f"{message}\\n")',  # the same text, in one write instead of print's two
    ]


def test_cdk_read_still_counts_each_message_through_the_entrypoints_handle_record_counts():
    """CustomerioEntrypoint.handle_record_counts (the CDK's, faster) is used only while the CDK calls it so."""
    assert "yield self.handle_record_counts(message, stream_message_counter)" in body_lines(
        airbyte_cdk.entrypoint.AirbyteEntrypoint.read
    )


@pytest.mark.parametrize("content", ["{not json", '{"type": "STREAM"}', '[{"type": "NOT_A_TYPE"}]', "[1]"])
def test_cdk_read_state_still_raises_one_of_state_file_errors_for_a_bad_file(tmp_path, content):
    path = tmp_path / "state.json"
    path.write_text(content)

    with pytest.raises(STATE_FILE_ERRORS):
        AbstractSource.read_state(str(path))


def test_cdk_http_stream_reads_every_page_of_a_slice_through_fetch_next_page():
    # `CustomerioStream._fetch_next_page` hands a slice its first page when it is in hand
    # (`PagesInHand`); that works only while the CDK asks for each page there.
    asked: List[object] = []

    class TwoPages(HttpStream):
        url_base = "https://api.customer.io/v1/"
        primary_key = None
        cursor_field = "created"

        def path(self, **kwargs):
            return "messages"

        def _fetch_next_page(self, stream_slice=None, stream_state=None, next_page_token=None):
            asked.append(next_page_token)
            response = requests.Response()
            response.status_code = 200
            return response.request, response

        def next_page_token(self, response):
            return None if len(asked) == 2 else {"start": "c2"}

        def parse_response(self, response, **kwargs):
            yield {"page": len(asked)}

    records = list(TwoPages().read_records(SyncMode.incremental, stream_slice={"type": "email"}))

    assert asked == [None, {"start": "c2"}] and records == [{"page": 1}, {"page": 2}]
