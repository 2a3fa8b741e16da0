"""campaign_actions: GET /v1/campaigns/{id}/actions for every campaign, 10 per page (the API takes no limit)."""

from typing import Iterable
from unittest import TestCase

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.mock_http.response_builder import FieldPath
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import StreamMatrix, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import NEXT_CURSOR, error_response, record_builder, response_builder

STREAM = "campaign_actions"
CAMPAIGN_ID = 1


def given_campaigns(http_mocker: HttpMocker, campaign_ids: Iterable[int], region: str = "US") -> None:
    page = response_builder("campaigns", "campaigns")
    for campaign_id in campaign_ids:
        page = page.with_record(record_builder("campaigns", "campaigns").with_id(campaign_id))
    http_mocker.get(CustomerioRequestBuilder.campaigns_endpoint().in_region(region).build(), page.build())


def actions_page():
    return response_builder(STREAM, "actions")


def action(campaign_id: int = CAMPAIGN_ID):
    return record_builder(STREAM, "actions").with_field(FieldPath("campaign_id"), campaign_id)


class FullRefreshTest(StreamMatrix, TestCase):
    stream_name = STREAM

    def given_parents(self, http_mocker, region="US"):
        given_campaigns(http_mocker, [CAMPAIGN_ID], region)

    def request(self, region="US"):
        return CustomerioRequestBuilder.campaign_actions_endpoint(CAMPAIGN_ID).in_region(region)

    def page(self):
        return actions_page()

    def record(self):
        return action()

    @HttpMocker()
    def test_given_two_pages_when_read_then_second_request_carries_only_start(self, http_mocker: HttpMocker) -> None:
        given_campaigns(http_mocker, [CAMPAIGN_ID])
        http_mocker.get(
            self.request().build(), actions_page().with_record(action().with_id(1)).with_pagination().build()
        )
        http_mocker.get(
            self.request().with_start(NEXT_CURSOR).build(), actions_page().with_record(action().with_id(2)).build()
        )

        output = self.read()

        assert self.ids(output) == [1, 2]

    @HttpMocker()
    def test_given_ids_as_strings_and_no_campaign_id_when_read_then_integers_and_campaign_id_carried(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, [42])
        http_mocker.get(
            CustomerioRequestBuilder.campaign_actions_endpoint(42).build(),
            actions_page()
            .with_record(
                action(campaign_id=None)
                .with_id("4200")
                .with_field(FieldPath("parent_action_id"), "4199")
                .with_field(FieldPath("from_id"), "7")
            )
            .build(),
        )

        output = self.read()

        record = output.records[0].record.data
        assert (record["id"], record["campaign_id"], record["parent_action_id"], record["from_id"]) == (
            4200,
            42,
            4199,
            7,
        )

    @HttpMocker()
    def test_given_several_campaigns_when_read_then_actions_of_each_in_campaign_order(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, [1, 2])
        http_mocker.get(
            CustomerioRequestBuilder.campaign_actions_endpoint(1).build(),
            actions_page().with_record(action(1).with_id(100)).build(),
        )
        http_mocker.get(
            CustomerioRequestBuilder.campaign_actions_endpoint(2).build(),
            actions_page().with_record(action(2).with_id(200)).build(),
        )

        output = self.read()

        assert sorted(
            (message.record.data["campaign_id"], message.record.data["id"]) for message in output.records
        ) == [
            (1, 100),
            (2, 200),
        ]

    @HttpMocker()
    def test_given_campaign_deleted_mid_sync_when_read_then_its_404_is_skipped(self, http_mocker: HttpMocker) -> None:
        given_campaigns(http_mocker, [1, 2])
        http_mocker.get(CustomerioRequestBuilder.campaign_actions_endpoint(1).build(), error_response(404))
        http_mocker.get(
            CustomerioRequestBuilder.campaign_actions_endpoint(2).build(),
            actions_page().with_record(action(2).with_id(200)).build(),
        )

        output = self.read()

        assert [message.record.data["id"] for message in output.records] == [200]
        assert not output.errors


class IncrementalTest(TestCase):
    @HttpMocker()
    def test_given_saved_updated_when_read_then_only_actions_updated_since_and_the_cursor_moves_after_the_last_campaign(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, [1, 2])
        updated = FieldPath("updated")
        http_mocker.get(
            CustomerioRequestBuilder.campaign_actions_endpoint(1).build(),
            actions_page().with_record(action(1).with_id(10).with_field(updated, 100)).build(),
        )
        http_mocker.get(
            CustomerioRequestBuilder.campaign_actions_endpoint(2).build(),
            actions_page()
            .with_record(action(2).with_id(20).with_field(updated, 300))
            .with_record(action(2).with_id(21).with_field(updated, 200))
            .build(),
        )
        state = StateBuilder().with_stream_state(STREAM, {"updated": 200}).build()

        output = read_stream(STREAM, ConfigBuilder().build(), SyncMode.incremental, state)

        assert [message.record.data["id"] for message in output.records] == [20, 21]
        assert [message.state.stream.stream_state.__dict__ for message in output.state_messages][-1] == {"updated": 300}
