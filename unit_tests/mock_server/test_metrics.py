"""Metrics streams: one metrics request per parent with exact query params (version 2 start/end/res/tz
from the state, version 1 period/steps), version 1 arrays placed by the answer's Date, both series
shapes, link rows, state, errors. The connector's clock is patched to NOW; answers carry no Date
unless a test gives one."""

import json
from datetime import datetime
from typing import Any, Dict, Iterable, Optional, Tuple
from unittest import TestCase
from unittest.mock import patch

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath
from airbyte_cdk.test.state_builder import StateBuilder

from source_customerio.errors import FORBIDDEN_MESSAGE
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import first_error, read_stream
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import error_response, record_builder, response_builder


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


NOW = ts("2026-11-27T14:31:00+00:00")
TODAY = ts("2026-11-27T00:00:00-05:00")  # days start at 00:00 Eastern time
YESTERDAY = ts("2026-11-26T00:00:00-05:00")
TWO_DAYS_AGO = ts("2026-11-25T00:00:00-05:00")
CREATED = ts("2026-11-24T15:00:00-05:00")
CREATED_DAY = ts("2026-11-24T00:00:00-05:00")
TOMORROW = ts("2026-11-28T00:00:00-05:00")
AFTER_MIDNIGHT = "Sat, 28 Nov 2026 05:10:00 GMT"  # 00:10 Eastern on the day after NOW's
THIS_EVENING = "Fri, 27 Nov 2026 23:00:00 GMT"  # 18:00 Eastern on NOW's day
CLOCK = "source_customerio.windows.current_time"


def metric_body(date: Optional[str] = None, **series: Any) -> HttpResponse:
    """A metrics answer; `date` is its HTTP Date header, the API's "now"."""
    return HttpResponse(json.dumps({"metric": {"series": series}}), 200, {"Date": date} if date else {})


def given_parents(
    http_mocker: HttpMocker,
    resource: str,
    records_field: str,
    request: CustomerioRequestBuilder,
    parents: Iterable[Tuple[Any, int]],
    **fields: Any,
) -> None:
    """A parent list of (id, created) records, each with `fields` set."""
    page = response_builder(resource, records_field)
    for parent_id, created in parents:
        record = record_builder(resource, records_field).with_id(parent_id).with_field(FieldPath("created"), created)
        for name, value in fields.items():
            record = record.with_field(FieldPath(name), value)
        page = page.with_record(record)
    http_mocker.get(request.build(), page.build())


def given_campaigns(http_mocker: HttpMocker, *parents: Tuple[Any, int]) -> None:
    given_parents(http_mocker, "campaigns", "campaigns", CustomerioRequestBuilder.campaigns_endpoint(), parents)


def given_newsletters(http_mocker: HttpMocker, *parents: Tuple[Any, int]) -> None:
    given_parents(
        http_mocker,
        "newsletters",
        "newsletters",
        CustomerioRequestBuilder.newsletters_endpoint().with_limit(100),
        parents,
    )


def version_2(path: str, start: int) -> CustomerioRequestBuilder:
    request = CustomerioRequestBuilder.endpoint(path)
    for name, value in (("version", 2), ("res", "days"), ("tz", "America/New_York"), ("start", start), ("end", NOW)):
        request = request.with_query_param(name, value)
    return request


def version_1(path: str, steps: int) -> CustomerioRequestBuilder:
    return CustomerioRequestBuilder.endpoint(path).with_query_param("period", "days").with_query_param("steps", steps)


def read(stream: str, state: Dict[str, Any] = None, expecting_exception: bool = False):
    sync_mode = SyncMode.incremental if state is not None else SyncMode.full_refresh
    state_messages = StateBuilder().with_stream_state(stream, state).build() if state else None
    with patch(CLOCK, return_value=NOW):
        return read_stream(stream, ConfigBuilder().build(), sync_mode, state_messages, expecting_exception)


def rows(output) -> list:
    return [message.record.data for message in output.records]


def final_state(output) -> Dict[str, Any]:
    return output.state_messages[-1].state.stream.stream_state.__dict__


class CampaignMetricsTest(TestCase):
    @HttpMocker()
    def test_given_no_state_when_read_then_version_2_from_the_campaigns_creation_day_to_now(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, (1, CREATED))
        http_mocker.get(
            version_2("campaigns/1/metrics", CREATED_DAY).build(), metric_body(sent=[4, 5, 6, 7], opened=[1, 2, 3, 0])
        )

        output = read("campaign_metrics")

        assert rows(output) == [
            {"campaign_id": 1, "period_start": CREATED_DAY, "period": "days", "sent": 4, "opened": 1},
            {"campaign_id": 1, "period_start": TWO_DAYS_AGO, "period": "days", "sent": 5, "opened": 2},
            {"campaign_id": 1, "period_start": YESTERDAY, "period": "days", "sent": 6, "opened": 3},
            {"campaign_id": 1, "period_start": TODAY, "period": "days", "sent": 7, "opened": 0},
        ]

    @HttpMocker()
    def test_given_state_when_read_incrementally_then_start_is_the_saved_period_and_state_is_the_last_complete_day(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, (1, CREATED), (2, CREATED))
        http_mocker.get(version_2("campaigns/1/metrics", TWO_DAYS_AGO).build(), metric_body(sent=[5, 6, 7]))
        http_mocker.get(version_2("campaigns/2/metrics", TWO_DAYS_AGO).build(), metric_body(sent=[1, 1, 1]))

        output = read("campaign_metrics", state={"period_start": TWO_DAYS_AGO})

        assert sorted((row["campaign_id"], row["period_start"]) for row in rows(output)) == [
            (1, TWO_DAYS_AGO),
            (1, YESTERDAY),
            (1, TODAY),
            (2, TWO_DAYS_AGO),
            (2, YESTERDAY),
            (2, TODAY),
        ]
        # The state moves once, after every campaign's rows.
        kinds = [
            (message.type.value, getattr(message.state, "stream", None) and message.state.stream.stream_state.__dict__)
            for message in output.records_and_state_messages
        ]
        assert [kind for kind, _ in kinds] == ["RECORD"] * 6 + ["STATE"]
        assert kinds[-1][1] == {"period_start": YESTERDAY}

    @HttpMocker()
    def test_given_the_series_series_shape_and_periods_past_now_when_read_then_parsed_and_future_dropped(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, (1, CREATED))
        body = HttpResponse(json.dumps({"series": {"series": {"sent": [5, 6, 7, 0]}}}), 200)
        http_mocker.get(version_2("campaigns/1/metrics", YESTERDAY).build(), body)

        output = read("campaign_metrics", state={"period_start": YESTERDAY})

        assert [(row["period_start"], row["sent"]) for row in rows(output)] == [(YESTERDAY, 5), (TODAY, 6)]

    @HttpMocker()
    def test_given_a_state_in_the_future_when_read_then_no_metrics_request_and_the_state_is_kept(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, (1, CREATED))
        future = ts("2100-01-01T00:00:00+00:00")

        output = read("campaign_metrics", state={"period_start": future})

        assert rows(output) == []
        assert final_state(output) == {"period_start": future}

    @HttpMocker()
    def test_given_403_when_read_then_config_error_names_the_key_scope(self, http_mocker: HttpMocker) -> None:
        given_campaigns(http_mocker, (1, CREATED))
        http_mocker.get(version_2("campaigns/1/metrics", CREATED_DAY).build(), error_response(403))

        output = read("campaign_metrics", expecting_exception=True)

        assert rows(output) == []
        assert first_error(output) == (
            FORBIDDEN_MESSAGE.format(resource="GET /v1/campaigns/1/metrics"),
            FailureType.config_error,
        )

    @HttpMocker()
    def test_given_a_campaign_deleted_mid_sync_when_read_then_skipped(self, http_mocker: HttpMocker) -> None:
        given_campaigns(http_mocker, (1, CREATED), (2, CREATED))
        http_mocker.get(version_2("campaigns/1/metrics", CREATED_DAY).build(), error_response(404))
        http_mocker.get(version_2("campaigns/2/metrics", CREATED_DAY).build(), metric_body(sent=[1, 2, 3, 4]))

        output = read("campaign_metrics")

        assert {row["campaign_id"] for row in rows(output)} == {2}
        assert not output.errors

    @HttpMocker()
    def test_given_an_answer_dated_the_next_day_when_read_then_still_placed_from_the_requests_start(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, (1, CREATED))
        http_mocker.get(version_2("campaigns/1/metrics", YESTERDAY).build(), metric_body(AFTER_MIDNIGHT, sent=[5, 6]))

        output = read("campaign_metrics", state={"period_start": YESTERDAY})

        assert [(row["period_start"], row["sent"]) for row in rows(output)] == [(YESTERDAY, 5), (TODAY, 6)]
        assert final_state(output) == {"period_start": TODAY}


class CampaignActionMetricsTest(TestCase):
    @HttpMocker()
    def test_given_string_action_ids_when_read_then_requested_per_action_and_ids_are_integers(
        self, http_mocker: HttpMocker
    ) -> None:
        given_campaigns(http_mocker, (1, CREATED))
        given_parents(
            http_mocker,
            "campaign_actions",
            "actions",
            CustomerioRequestBuilder.campaign_actions_endpoint(1),
            [("1000", CREATED)],
            campaign_id=1,
        )
        http_mocker.get(version_2("campaigns/1/actions/1000/metrics", YESTERDAY).build(), metric_body(delivered=[3, 4]))

        output = read("campaign_action_metrics", state={"period_start": YESTERDAY})

        assert rows(output) == [
            {"campaign_id": 1, "action_id": 1000, "period_start": YESTERDAY, "period": "days", "delivered": 3},
            {"campaign_id": 1, "action_id": 1000, "period_start": TODAY, "period": "days", "delivered": 4},
        ]


class NewsletterMetricsTest(TestCase):
    @HttpMocker()
    def test_given_state_and_no_date_when_read_then_version_1_steps_since_saved_day_and_arrays_end_on_connectors_day(
        self, http_mocker: HttpMocker
    ) -> None:
        given_newsletters(http_mocker, (7, CREATED))
        http_mocker.get(version_1("newsletters/7/metrics", 4).build(), metric_body(sent=[5, 6, 7], human_opened=[2]))

        output = read("newsletter_metrics", state={"period_start": TWO_DAYS_AGO})

        assert rows(output) == [
            {"newsletter_id": 7, "period_start": TWO_DAYS_AGO, "period": "days", "sent": 5},
            {"newsletter_id": 7, "period_start": YESTERDAY, "period": "days", "sent": 6},
            {"newsletter_id": 7, "period_start": TODAY, "period": "days", "sent": 7, "human_opened": 2},
        ]
        assert final_state(output) == {"period_start": YESTERDAY}

    @HttpMocker()
    def test_given_an_answer_dated_after_midnight_when_read_then_arrays_end_on_the_answers_day_and_the_state_follows_it(
        self, http_mocker: HttpMocker
    ) -> None:
        given_newsletters(http_mocker, (7, CREATED))
        http_mocker.get(version_1("newsletters/7/metrics", 4).build(), metric_body(AFTER_MIDNIGHT, sent=[5, 6, 7, 8]))

        output = read("newsletter_metrics", state={"period_start": TWO_DAYS_AGO})

        assert [(row["period_start"], row["sent"]) for row in rows(output)] == [
            (TWO_DAYS_AGO, 5),
            (YESTERDAY, 6),
            (TODAY, 7),
            (TOMORROW, 8),
        ]
        assert final_state(output) == {"period_start": TODAY}

    @HttpMocker()
    def test_given_an_unparsable_date_when_read_then_arrays_end_on_the_connectors_day(
        self, http_mocker: HttpMocker
    ) -> None:
        given_newsletters(http_mocker, (7, CREATED))
        http_mocker.get(version_1("newsletters/7/metrics", 4).build(), metric_body("soon", sent=[5, 6, 7, 8]))

        output = read("newsletter_metrics", state={"period_start": TWO_DAYS_AGO})

        assert [(row["period_start"], row["sent"]) for row in rows(output)] == [
            (TWO_DAYS_AGO, 6),
            (YESTERDAY, 7),
            (TODAY, 8),
        ]
        assert final_state(output) == {"period_start": YESTERDAY}

    @HttpMocker()
    def test_given_answers_on_both_sides_of_midnight_when_read_then_state_is_last_day_complete_at_first_answer(
        self, http_mocker: HttpMocker
    ) -> None:
        given_newsletters(http_mocker, (7, CREATED), (8, CREATED))
        http_mocker.get(version_1("newsletters/7/metrics", 4).build(), metric_body(THIS_EVENING, sent=[5, 6, 7]))
        http_mocker.get(version_1("newsletters/8/metrics", 4).build(), metric_body(AFTER_MIDNIGHT, sent=[5, 6, 7, 8]))

        output = read("newsletter_metrics", state={"period_start": TWO_DAYS_AGO})

        assert max((row["newsletter_id"], row["period_start"]) for row in rows(output)) == (8, TOMORROW)
        assert final_state(output) == {"period_start": YESTERDAY}

    @HttpMocker()
    def test_given_an_old_newsletter_and_no_state_when_read_then_the_45_day_cap(self, http_mocker: HttpMocker) -> None:
        given_newsletters(http_mocker, (7, ts("2020-01-01T00:00:00Z")))
        http_mocker.get(version_1("newsletters/7/metrics", 45).build(), metric_body(sent=list(range(45))))

        output = read("newsletter_metrics")

        assert [row["sent"] for row in rows(output)] == list(range(45))
        assert rows(output)[-1]["period_start"] == TODAY

    @HttpMocker()
    def test_given_links_when_read_link_metrics_then_one_row_per_link_per_day(self, http_mocker: HttpMocker) -> None:
        given_newsletters(http_mocker, (7, CREATED))
        links = {
            "links": [
                {"link": {"id": 31, "href": "https://example.com/a"}, "metric": {"series": {"clicked": [0, 2]}}},
                {"link": {"id": 32, "href": "mailto:x@example.com"}, "metric": {"series": {"clicked": [1, 0]}}},
            ]
        }
        http_mocker.get(version_1("newsletters/7/metrics/links", 3).build(), HttpResponse(json.dumps(links), 200))

        output = read("newsletter_link_metrics", state={"period_start": YESTERDAY})

        assert [
            (row["newsletter_id"], row["link_id"], row["href"], row["period_start"], row["clicked"])
            for row in rows(output)
        ] == [
            (7, 31, "https://example.com/a", YESTERDAY, 0),
            (7, 31, "https://example.com/a", TODAY, 2),
            (7, 32, "mailto:x@example.com", YESTERDAY, 1),
            (7, 32, "mailto:x@example.com", TODAY, 0),
        ]
