"""campaigns: GET /v1/campaigns, one unpaged list; incremental on `updated`, filtered client-side."""

import json
from email.utils import formatdate
from unittest import TestCase

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import StreamMatrix, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import record_builder, response_builder

STREAM = "campaigns"


def campaigns_page():
    return response_builder(STREAM, "campaigns")


def campaign():
    return record_builder(STREAM, "campaigns", cursor_field="updated")


class FullRefreshTest(StreamMatrix, TestCase):
    stream_name = STREAM

    def request(self, region="US"):
        return CustomerioRequestBuilder.campaigns_endpoint().in_region(region)

    def page(self):
        return campaigns_page()

    def record(self):
        return campaign()


class IncrementalTest(TestCase):
    def read_incremental(self, state=None):
        return read_stream(STREAM, ConfigBuilder().build(), SyncMode.incremental, state)

    @HttpMocker()
    def test_given_no_state_when_read_then_all_records_and_state_at_latest_updated(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            CustomerioRequestBuilder.campaigns_endpoint().build(),
            campaigns_page()
            .with_record(campaign().with_id(1).with_cursor(1700000900))
            .with_record(campaign().with_id(2).with_cursor(1700000500))
            .build(),
        )

        output = self.read_incremental()

        assert [message.record.data["id"] for message in output.records] == [1, 2]
        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1700000900}

    @HttpMocker()
    def test_given_state_when_read_then_older_records_are_filtered_and_state_advances(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            CustomerioRequestBuilder.campaigns_endpoint().build(),
            campaigns_page()
            .with_record(campaign().with_id(1).with_cursor(1699999999))
            .with_record(campaign().with_id(2).with_cursor(1700000000))
            .with_record(campaign().with_id(3).with_cursor(1700000600))
            .build(),
        )
        state = StateBuilder().with_stream_state(STREAM, {"updated": 1700000000}).build()

        output = self.read_incremental(state)

        assert [message.record.data["id"] for message in output.records] == [2, 3]
        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1700000600}

    @HttpMocker()
    def test_given_state_and_nothing_newer_when_read_then_state_is_kept(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            CustomerioRequestBuilder.campaigns_endpoint().build(),
            campaigns_page().with_record(campaign().with_id(1).with_cursor(1600000000)).build(),
        )
        state = StateBuilder().with_stream_state(STREAM, {"updated": 1700000000}).build()

        output = self.read_incremental(state)

        assert output.records == []
        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1700000000}


def answered_on(moment: int, *campaigns_updated: int) -> HttpResponse:
    """The campaigns list as Customer.io answers it at `moment` (its `Date` header)."""
    records = [{"id": index + 1, "updated": updated} for index, updated in enumerate(campaigns_updated)]
    return HttpResponse(json.dumps({"campaigns": records}), 200, {"Date": formatdate(moment, usegmt=True)})


class EditsDuringTheSyncTest(TestCase):
    """The saved cursor never passes the API's first answer of the stream less `edits_lookback_minutes`."""

    def read_incremental(self, **options):
        config = ConfigBuilder()
        for name, value in options.items():
            config = config.with_option(name, value)
        return read_stream(STREAM, config.build(), SyncMode.incremental)

    @HttpMocker()
    def test_given_a_record_updated_within_the_lookback_when_read_then_state_stays_a_lookback_before_the_answer(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(CustomerioRequestBuilder.campaigns_endpoint().build(), answered_on(1700003600, 1700003000))

        output = self.read_incremental()

        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1700000000}  # 60 minutes before

    @HttpMocker()
    def test_given_older_records_when_read_then_state_is_the_newest_record(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            CustomerioRequestBuilder.campaigns_endpoint().build(), answered_on(1700003600, 1690000000, 1699990000)
        )

        output = self.read_incremental()

        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1699990000}

    @HttpMocker()
    def test_given_a_lookback_option_when_read_then_state_follows_it(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(CustomerioRequestBuilder.campaigns_endpoint().build(), answered_on(1700003600, 1700003500))

        output = self.read_incremental(edits_lookback_minutes=10)

        assert output.most_recent_state.stream_state.__dict__ == {"updated": 1700003000}
