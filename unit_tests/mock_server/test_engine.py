"""Every pagination family read to its last page through the CDK's concurrent engine, several
streams in one sync. (The CDK's facade over an HttpStream that the CDK gave an automatic
resumable-full-refresh cursor reads only the first page of each slice.)"""

import json
from typing import Any, Iterable, List, Optional
from unittest import TestCase

from airbyte_cdk.models import SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from source_customerio.source import SourceCustomerio
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder


def json_page(field: str, records: Optional[List[Any]], next_cursor: Optional[str] = None) -> HttpResponse:
    body = {field: records, **({} if next_cursor is None else {"next": next_cursor})}
    return HttpResponse(json.dumps(body), 200)


def newsletters(ids: Iterable[int]) -> List[dict]:
    return [{"id": n, "name": f"n{n}", "updated": 1700000000 + n} for n in ids]


def read_streams(*streams: str, sync_mode: SyncMode = SyncMode.full_refresh):
    catalog = CatalogBuilder()
    for stream in streams:
        catalog = catalog.with_stream(stream, sync_mode)
    return read(SourceCustomerio(), ConfigBuilder().build(), catalog.build())


def ids_of(output, stream: str) -> List[Any]:
    return [message.record.data["id"] for message in output.records if message.record.stream == stream]


def stream_of(message) -> str:
    return message.record.stream if message.type == Type.RECORD else message.state.stream.stream_descriptor.name


def newsletters_request(start: Optional[str] = None):
    request = CustomerioRequestBuilder.newsletters_endpoint().with_limit(100)
    return (request.with_start(start) if start else request).build()


def given_three_newsletter_pages(http_mocker: HttpMocker) -> None:
    http_mocker.get(newsletters_request(), json_page("newsletters", newsletters([1, 2]), "c2"))
    http_mocker.get(newsletters_request("c2"), json_page("newsletters", newsletters([3, 4]), "c3"))
    http_mocker.get(newsletters_request("c3"), json_page("newsletters", newsletters([5]), ""))


def suppressions_request(suppression_type: str, offset: int = 0):
    return (
        CustomerioRequestBuilder.endpoint(f"esp/suppression/{suppression_type}")
        .with_limit(1000)
        .with_query_param("offset", offset)
        .build()
    )


def suppressions(count: Optional[int], first: int = 0) -> HttpResponse:
    rows = None if count is None else [{"email": f"p{first + n}@example.net", "created": 1} for n in range(count)]
    return json_page("suppressions", rows)


class EngineTest(TestCase):
    def test_the_source_gives_no_stream_the_cdks_automatic_resumable_full_refresh_cursor(self) -> None:
        for stream in SourceCustomerio().streams(ConfigBuilder().build()):
            self.assertIsNone(stream.get_cursor(), stream.name)

    @HttpMocker()
    def test_given_cursor_pages_when_read_then_every_page(self, http_mocker: HttpMocker) -> None:
        given_three_newsletter_pages(http_mocker)

        output = read_streams("newsletters")

        self.assertEqual(ids_of(output, "newsletters"), [1, 2, 3, 4, 5])

    @HttpMocker()
    def test_given_cursor_pages_per_parent_when_read_then_every_page_of_every_parent(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            CustomerioRequestBuilder.segments_endpoint().build(), json_page("segments", [{"id": 7}, {"id": 8}])
        )
        for segment_id in (7, 8):
            request = CustomerioRequestBuilder.segment_membership_endpoint(segment_id).with_limit(30000)
            first = [{"cio_id": f"{segment_id}-1"}]
            http_mocker.get(request.build(), json_page("identifiers", first, "c2"))
            http_mocker.get(request.with_start("c2").build(), json_page("identifiers", [{"cio_id": f"{segment_id}-2"}]))

        output = read_streams("segment_members")

        members = sorted((m.record.data["segment_id"], m.record.data["cio_id"]) for m in output.records)
        self.assertEqual(members, [(7, "7-1"), (7, "7-2"), (8, "8-1"), (8, "8-2")])

    @HttpMocker()
    def test_given_an_unpaged_list_per_parent_when_read_then_every_parents_list(self, http_mocker: HttpMocker) -> None:
        given_three_newsletter_pages(http_mocker)
        for newsletter_id in range(1, 6):
            http_mocker.get(
                CustomerioRequestBuilder.endpoint(f"newsletters/{newsletter_id}/contents").build(),
                json_page("contents", [{"id": newsletter_id * 10}, {"id": newsletter_id * 10 + 1}]),
            )

        output = read_streams("newsletter_contents")

        self.assertEqual(sorted(ids_of(output, "newsletter_contents")), [10, 11, 20, 21, 30, 31, 40, 41, 50, 51])

    @HttpMocker()
    def test_given_offset_pages_when_read_then_every_page(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(suppressions_request("bounces"), suppressions(1000))
        http_mocker.get(suppressions_request("bounces", offset=1000), suppressions(1000, first=1000))
        http_mocker.get(suppressions_request("bounces", offset=2000), suppressions(None))
        for suppression_type in ("blocks", "spam_reports", "invalid_emails"):
            http_mocker.get(suppressions_request(suppression_type), suppressions(0))

        output = read_streams("esp_suppressions")

        self.assertEqual(len(output.records), 2000)
        self.assertEqual(len({message.record.data["email"] for message in output.records}), 2000)

    @HttpMocker()
    def test_given_several_streams_when_read_incrementally_then_all_pages_and_each_state_after_its_records(
        self, http_mocker: HttpMocker
    ) -> None:
        given_three_newsletter_pages(http_mocker)
        http_mocker.get(
            CustomerioRequestBuilder.campaigns_endpoint().build(),
            json_page("campaigns", [{"id": 1, "updated": 1700000100}, {"id": 2, "updated": 1700000200}]),
        )

        output = read_streams("newsletters", "campaigns", sync_mode=SyncMode.incremental)

        self.assertEqual(ids_of(output, "newsletters"), [1, 2, 3, 4, 5])
        self.assertEqual(ids_of(output, "campaigns"), [1, 2])
        for stream, cursor in (("newsletters", {"updated": 1700000005}), ("campaigns", {"updated": 1700000200})):
            messages = [message for message in output.records_and_state_messages if stream_of(message) == stream]
            self.assertEqual(messages[-1].type, Type.STATE, stream)
            self.assertEqual(messages[-1].state.stream.stream_state.__dict__, cursor)
