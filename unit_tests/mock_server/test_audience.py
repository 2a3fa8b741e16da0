"""segment_usage, object_types, objects (search + attributes), subscription_topics, esp_suppressions, collections."""

import json
from unittest import TestCase

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_customerio.config import REGION_HOSTS
from source_customerio.errors import FORBIDDEN_MESSAGE
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import StreamMatrix, first_error, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import error_response, record_builder, response_builder


def json_response(body) -> HttpResponse:
    return HttpResponse(json.dumps(body))


def read(stream: str, expecting_exception: bool = False):
    return read_stream(stream, ConfigBuilder().build(), expecting_exception=expecting_exception)


class SegmentUsageTest(TestCase):
    def given_segments(self, http_mocker: HttpMocker, segment_ids) -> None:
        page = response_builder("segments", "segments")
        for segment_id in segment_ids:
            page = page.with_record(record_builder("segments", "segments").with_id(segment_id))
        http_mocker.get(CustomerioRequestBuilder.segments_endpoint().build(), page.build())

    @HttpMocker()
    def test_given_two_segments_when_read_then_one_usage_record_each(self, http_mocker: HttpMocker) -> None:
        self.given_segments(http_mocker, [3, 4])
        usage = {"campaigns": [1], "sent_newsletters": [7, 9], "draft_newsletters": []}
        http_mocker.get(
            CustomerioRequestBuilder.endpoint("segments/3/used_by").build(),
            json_response({"segment_id": 3, "used_by": usage}),
        )
        http_mocker.get(CustomerioRequestBuilder.endpoint("segments/4/used_by").build(), json_response({"used_by": {}}))

        output = read("segment_usage")

        assert sorted((message.record.data for message in output.records), key=lambda r: r["segment_id"]) == [
            {"segment_id": 3, "used_by": usage},
            {"segment_id": 4, "used_by": {}},
        ]

    @HttpMocker()
    def test_given_no_segments_when_read_then_no_records(self, http_mocker: HttpMocker) -> None:
        self.given_segments(http_mocker, [])

        assert read("segment_usage").records == []

    @HttpMocker()
    def test_given_403_when_read_then_config_error_names_key_scope(self, http_mocker: HttpMocker) -> None:
        self.given_segments(http_mocker, [3])
        http_mocker.get(CustomerioRequestBuilder.endpoint("segments/3/used_by").build(), error_response(403))

        assert first_error(read("segment_usage", expecting_exception=True)) == (
            FORBIDDEN_MESSAGE.format(resource="GET /v1/segments/3/used_by"),
            FailureType.config_error,
        )


class ObjectTypesTest(StreamMatrix, TestCase):
    stream_name = "object_types"
    first_id, second_id = "1", "2"

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint("object_types").in_region(region)

    def page(self):
        return response_builder("object_types", "types")

    def record(self):
        return record_builder("object_types", "types")


def object_search(type_id: str, start: str = None) -> HttpRequest:
    """POST /v1/objects with the catch-all filter: every object of the type has an `object_id`."""
    params = {"limit": "1000", **({"start": start} if start else {})}
    body = {
        "object_type_id": type_id,
        "filter": {"and": [{"object_attribute": {"field": "object_id", "operator": "exists", "type_id": type_id}}]},
    }
    return HttpRequest(f"{REGION_HOSTS['US']}/v1/objects", query_params=params, body=body)


def identifiers(*numbers: int, next_cursor: str = "") -> HttpResponse:
    found = [{"object_id": f"acme-{n}", "cio_object_id": f"ob{n:04d}"} for n in numbers]
    return json_response({"identifiers": found, "ids": [item["object_id"] for item in found], "next": next_cursor})


def attributes_request(type_id: str, number: int) -> HttpRequest:
    return (
        CustomerioRequestBuilder.endpoint(f"objects/{type_id}/ob{number:04d}/attributes")
        .with_query_param("id_type", "cio_object_id")
        .build()
    )


def attributes(type_id: str, number: int) -> HttpResponse:
    return json_response(
        {
            "object": {
                "attributes": {"name": f"Acme {number}"},
                "timestamps": {"name": 1700000000},
                "identifiers": {"object_id": f"acme-{number}", "cio_object_id": f"ob{number:04d}"},
                "object_type_id": type_id,
            }
        }
    )


def given_object_types(http_mocker: HttpMocker, *type_ids: str) -> None:
    http_mocker.get(
        CustomerioRequestBuilder.endpoint("object_types").build(),
        json_response({"types": [{"id": type_id, "name": f"Type {type_id}"} for type_id in type_ids]}),
    )


class ObjectsTest(TestCase):
    def keys(self, output):
        return [
            (
                message.record.data["object_type_id"],
                message.record.data["object_id"],
                message.record.data["attributes"]["name"],
            )
            for message in output.records
        ]

    @HttpMocker()
    def test_given_one_page_when_read_then_attributes_of_each_object(self, http_mocker: HttpMocker) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), identifiers(1, 2))
        http_mocker.get(attributes_request("1", 1), attributes("1", 1))
        http_mocker.get(attributes_request("1", 2), attributes("1", 2))

        assert sorted(self.keys(read("objects"))) == [("1", "acme-1", "Acme 1"), ("1", "acme-2", "Acme 2")]

    @HttpMocker()
    def test_given_pages_repeating_an_object_when_read_then_it_is_fetched_and_emitted_once(
        self, http_mocker: HttpMocker
    ) -> None:
        given_object_types(http_mocker, "1", "2")
        http_mocker.post(object_search("1"), identifiers(1, 2, next_cursor="page-2"))
        http_mocker.post(object_search("1", start="page-2"), identifiers(2, 3))
        http_mocker.post(object_search("2"), identifiers(1))
        for type_id, number in (("1", 1), ("1", 2), ("1", 3), ("2", 1)):
            http_mocker.get(
                attributes_request(type_id, number), attributes(type_id, number)
            )  # each matcher must be hit exactly once

        output = read("objects")

        assert sorted(self.keys(output)) == [
            ("1", "acme-1", "Acme 1"),
            ("1", "acme-2", "Acme 2"),
            ("1", "acme-3", "Acme 3"),
            ("2", "acme-1", "Acme 1"),
        ]
        assert {record.record.data["cio_object_id"] for record in output.records} == {"ob0001", "ob0002", "ob0003"}

    @HttpMocker()
    def test_given_no_objects_when_read_then_no_records(self, http_mocker: HttpMocker) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), identifiers())

        assert read("objects").records == []

    @HttpMocker()
    def test_given_object_deleted_between_search_and_read_when_read_then_skipped(self, http_mocker: HttpMocker) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), identifiers(1, 2))
        http_mocker.get(attributes_request("1", 1), error_response(404))
        http_mocker.get(attributes_request("1", 2), attributes("1", 2))

        output = read("objects")

        assert self.keys(output) == [("1", "acme-2", "Acme 2")] and not output.errors

    @HttpMocker()
    def test_given_403_when_read_then_config_error_names_key_scope(self, http_mocker: HttpMocker) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), error_response(403))

        assert first_error(read("objects", expecting_exception=True)) == (
            FORBIDDEN_MESSAGE.format(resource="POST /v1/objects"),
            FailureType.config_error,
        )


def relationships_request(number: int, start: str = None) -> HttpRequest:
    builder = (
        CustomerioRequestBuilder.endpoint(f"objects/1/ob{number:04d}/relationships")
        .with_limit(1000)
        .with_query_param("id_type", "cio_object_id")
    )
    return (builder.with_query_param("start", start) if start else builder).build()


def related_people(*people: int, next_cursor: str = "") -> HttpResponse:
    found = [
        {
            "identifiers": {"cio_id": f"c{person}", "id": f"u{person}", "email": None},
            "object_type_id": "1",
            "attributes": {"role": "admin"},
            "timestamps": {"role": 1700000000},
        }
        for person in people
    ]
    return json_response({"cio_relationships": found, "next": next_cursor})


class ObjectRelationshipsTest(TestCase):
    def keys(self, output):
        return [
            tuple(message.record.data[field] for field in ("object_type_id", "cio_object_id", "object_id", "cio_id"))
            for message in output.records
        ]

    @HttpMocker()
    def test_given_pages_of_objects_and_relationships_when_read_then_each_object_read_once_following_next(
        self, http_mocker: HttpMocker
    ) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), identifiers(1, 2, next_cursor="page-2"))
        http_mocker.post(object_search("1", start="page-2"), identifiers(2))
        http_mocker.get(relationships_request(1), related_people(10, 11, next_cursor="rel-2"))
        http_mocker.get(relationships_request(1, start="rel-2"), related_people(12))
        http_mocker.get(relationships_request(2), related_people())

        output = read("object_relationships")

        assert self.keys(output) == [
            ("1", "ob0001", "acme-1", "c10"),
            ("1", "ob0001", "acme-1", "c11"),
            ("1", "ob0001", "acme-1", "c12"),
        ]
        assert output.records[0].record.data["id"] == "u10" and output.records[0].record.data["attributes"] == {
            "role": "admin"
        }

    @HttpMocker()
    def test_given_no_objects_when_read_then_no_records(self, http_mocker: HttpMocker) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), identifiers())

        assert read("object_relationships").records == []

    @HttpMocker()
    def test_given_object_deleted_between_search_and_read_when_read_then_skipped(self, http_mocker: HttpMocker) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), identifiers(1, 2))
        http_mocker.get(relationships_request(1), error_response(404))
        http_mocker.get(relationships_request(2), related_people(5))

        output = read("object_relationships")

        assert self.keys(output) == [("1", "ob0002", "acme-2", "c5")] and not output.errors

    @HttpMocker()
    def test_given_403_when_read_then_config_error_names_key_scope(self, http_mocker: HttpMocker) -> None:
        given_object_types(http_mocker, "1")
        http_mocker.post(object_search("1"), identifiers(1))
        http_mocker.get(relationships_request(1), error_response(403))

        assert first_error(read("object_relationships", expecting_exception=True)) == (
            FORBIDDEN_MESSAGE.format(resource="GET /v1/objects/1/ob0001/relationships"),
            FailureType.config_error,
        )


class SubscriptionTopicsTest(StreamMatrix, TestCase):
    stream_name = "subscription_topics"

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint("subscription_topics").in_region(region)

    def page(self):
        return response_builder("subscription_topics", "topics")

    def record(self):
        return record_builder("subscription_topics", "topics")


class CollectionsTest(StreamMatrix, TestCase):
    stream_name = "collections"

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint("collections").in_region(region)

    def page(self):
        return response_builder("collections", "collections")

    def record(self):
        return record_builder("collections", "collections")


SUPPRESSION_TYPES = ("bounces", "blocks", "spam_reports", "invalid_emails")


def suppressions_request(suppression_type: str, offset: int = 0) -> HttpRequest:
    return (
        CustomerioRequestBuilder.endpoint(f"esp/suppression/{suppression_type}")
        .with_limit(1000)
        .with_query_param("offset", offset)
        .build()
    )


def suppressions(suppression_type: str, count, first: int = 0) -> HttpResponse:
    """`count` None: the null list the API returns past the end."""
    rows = (
        None
        if count is None
        else [
            {"created": 1700000000, "email": f"p{first + n}@example.net", "reason": "550", "status": "550"}
            for n in range(count)
        ]
    )
    return json_response({"category": suppression_type, "suppressions": rows})


class EspSuppressionsTest(TestCase):
    def given_empty(self, http_mocker: HttpMocker, *suppression_types: str) -> None:
        for suppression_type in suppression_types:
            http_mocker.get(suppressions_request(suppression_type), suppressions(suppression_type, 0))

    def keys(self, output):
        return [(message.record.data["suppression_type"], message.record.data["email"]) for message in output.records]

    @HttpMocker()
    def test_given_one_short_page_per_type_when_read_then_each_type_read_once(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(suppressions_request("bounces"), suppressions("bounces", 2))
        http_mocker.get(suppressions_request("blocks"), suppressions("blocks", 1))
        self.given_empty(http_mocker, "spam_reports", "invalid_emails")

        # The types are partitions read concurrently: their order in the output is not fixed.
        assert sorted(self.keys(read("esp_suppressions"))) == [
            ("blocks", "p0@example.net"),
            ("bounces", "p0@example.net"),
            ("bounces", "p1@example.net"),
        ]

    @HttpMocker()
    def test_given_a_full_page_when_read_then_next_offset_until_null_past_the_end(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(suppressions_request("bounces"), suppressions("bounces", 1000))
        http_mocker.get(suppressions_request("bounces", offset=1000), suppressions("bounces", 1000, first=1000))
        http_mocker.get(suppressions_request("bounces", offset=2000), suppressions("bounces", None))
        self.given_empty(http_mocker, "blocks", "spam_reports", "invalid_emails")

        output = read("esp_suppressions")

        assert len(output.records) == 2000
        assert self.keys(output)[999:1001] == [("bounces", "p999@example.net"), ("bounces", "p1000@example.net")]

    @HttpMocker()
    def test_given_all_lists_empty_when_read_then_no_records(self, http_mocker: HttpMocker) -> None:
        self.given_empty(http_mocker, *SUPPRESSION_TYPES)

        output = read("esp_suppressions")

        assert output.records == [] and not output.errors

    @HttpMocker()
    def test_given_403_when_read_then_config_error_names_key_scope(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(suppressions_request("bounces"), error_response(403))
        self.given_empty(http_mocker, "blocks", "spam_reports", "invalid_emails")  # read at once with bounces

        assert first_error(read("esp_suppressions", expecting_exception=True)) == (
            FORBIDDEN_MESSAGE.format(resource="GET /v1/esp/suppression/bounces"),
            FailureType.config_error,
        )
