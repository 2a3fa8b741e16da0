"""broadcasts, broadcast_actions, broadcast_triggers: GET /v1/broadcasts and two unpaged lists per broadcast."""

from typing import Iterable
from unittest import TestCase

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.mock_http.response_builder import FieldPath
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import StreamMatrix, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import error_response, record_builder, response_builder

BROADCAST_ID = 3


def broadcasts_request(region: str = "US") -> CustomerioRequestBuilder:
    return CustomerioRequestBuilder.endpoint("broadcasts").in_region(region)


def broadcast(broadcast_id: int = BROADCAST_ID, updated: int = 1700000000):
    return record_builder("broadcasts", "broadcasts", cursor_field="updated").with_id(broadcast_id).with_cursor(updated)


def given_broadcasts(http_mocker: HttpMocker, broadcast_ids: Iterable[int], region: str = "US") -> None:
    page = response_builder("broadcasts", "broadcasts")
    for broadcast_id in broadcast_ids:
        page = page.with_record(broadcast(broadcast_id))
    http_mocker.get(broadcasts_request(region).build(), page.build())


class BroadcastsTest(StreamMatrix, TestCase):
    stream_name = "broadcasts"

    def request(self, region="US"):
        return broadcasts_request(region)

    def page(self):
        return response_builder("broadcasts", "broadcasts")

    def record(self):
        return broadcast()

    @HttpMocker()
    def test_given_nil_tags_when_read_then_tags_are_null_and_lists_kept(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            self.request().build(),
            self.page()
            .with_record(broadcast(1).with_field(FieldPath("tags"), "nil"))
            .with_record(broadcast(2).with_field(FieldPath("tags"), ["promo"]))
            .build(),
        )

        output = self.read()

        assert [message.record.data.get("tags") for message in output.records] == [None, ["promo"]]

    @HttpMocker()
    def test_given_state_when_read_incrementally_then_only_records_at_or_after_cursor_and_state_advances(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            self.request().build(),
            self.page()
            .with_record(broadcast(1, updated=100))
            .with_record(broadcast(2, updated=200))
            .with_record(broadcast(3, updated=300))
            .build(),
        )
        state = StateBuilder().with_stream_state(self.stream_name, {"updated": 200}).build()

        output = read_stream(self.stream_name, ConfigBuilder().build(), SyncMode.incremental, state)

        assert self.ids(output) == [2, 3]
        assert output.most_recent_state.stream_state.__dict__ == {"updated": 300}


class BroadcastActionsTest(StreamMatrix, TestCase):
    stream_name = "broadcast_actions"

    def given_parents(self, http_mocker, region="US"):
        given_broadcasts(http_mocker, [BROADCAST_ID], region)

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint(f"broadcasts/{BROADCAST_ID}/actions").in_region(region)

    def page(self):
        return response_builder("broadcast_actions", "actions")

    def record(self):
        return record_builder("broadcast_actions", "actions")

    @HttpMocker()
    def test_given_string_ids_and_no_broadcast_id_when_read_then_integers_and_parent_id_carried(
        self, http_mocker: HttpMocker
    ) -> None:
        given_broadcasts(http_mocker, [9])
        http_mocker.get(
            CustomerioRequestBuilder.endpoint("broadcasts/9/actions").build(),
            self.page()
            .with_record(
                self.record()
                .with_id("5090")
                .with_field(FieldPath("broadcast_id"), None)
                .with_field(FieldPath("from_id"), "7")
            )
            .build(),
        )

        output = self.read()

        record = output.records[0].record.data
        assert (record["id"], record["broadcast_id"], record["from_id"]) == (5090, 9, 7)

    @HttpMocker()
    def test_given_broadcast_deleted_mid_sync_when_read_then_skipped_and_others_read(
        self, http_mocker: HttpMocker
    ) -> None:
        given_broadcasts(http_mocker, [1, 2])
        http_mocker.get(CustomerioRequestBuilder.endpoint("broadcasts/1/actions").build(), error_response(404))
        http_mocker.get(
            CustomerioRequestBuilder.endpoint("broadcasts/2/actions").build(),
            self.page().with_record(self.record().with_id(20)).build(),
        )

        output = self.read()

        assert self.ids(output) == [20]
        assert not output.errors


class BroadcastTriggersTest(StreamMatrix, TestCase):
    stream_name = "broadcast_triggers"

    def given_parents(self, http_mocker, region="US"):
        given_broadcasts(http_mocker, [BROADCAST_ID], region)

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint(f"broadcasts/{BROADCAST_ID}/triggers").in_region(region)

    def page(self):
        return response_builder("broadcast_triggers", "triggers")

    def record(self):
        return record_builder("broadcast_triggers", "triggers")
