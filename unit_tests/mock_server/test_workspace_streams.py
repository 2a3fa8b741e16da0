"""exports (GET /v1/exports, the export jobs) and ip_addresses (GET /v1/info/ip_addresses, one record per address)."""

import json
from unittest import TestCase

from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from source_customerio.errors import FORBIDDEN_MESSAGE
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import StreamMatrix, first_error, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import error_response, record_builder, response_builder


class ExportsTest(StreamMatrix, TestCase):
    stream_name = "exports"

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint("exports").in_region(region)

    def page(self):
        return response_builder("exports", "exports")

    def record(self):
        return record_builder("exports", "exports")


class IpAddressesTest(TestCase):
    def read(self, expecting_exception: bool = False):
        return read_stream("ip_addresses", ConfigBuilder().build(), expecting_exception=expecting_exception)

    def request(self):
        return CustomerioRequestBuilder.endpoint("info/ip_addresses").build()

    @HttpMocker()
    def test_given_addresses_when_read_then_one_record_per_address(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            self.request(), HttpResponse(json.dumps({"ip_addresses": ["35.188.196.183", "104.198.177.219"]}))
        )

        output = self.read()

        assert [message.record.data for message in output.records] == [
            {"ip_address": "35.188.196.183"},
            {"ip_address": "104.198.177.219"},
        ]

    @HttpMocker()
    def test_given_no_addresses_when_read_then_no_records(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(self.request(), HttpResponse(json.dumps({"ip_addresses": []})))

        assert self.read().records == []

    @HttpMocker()
    def test_given_403_when_read_then_config_error_names_key_scope(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(self.request(), error_response(403))

        assert first_error(self.read(expecting_exception=True)) == (
            FORBIDDEN_MESSAGE.format(resource="GET /v1/info/ip_addresses"),
            FailureType.config_error,
        )
