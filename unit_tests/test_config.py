"""The configuration boundary: typed values from a valid config, one ConfigError naming the field otherwise."""

import json
from pathlib import Path

import pytest
from airbyte_cdk.models import FailureType

import source_customerio
from source_customerio.config import (
    BOUNDS,
    CHANNEL_ALIASES,
    CHOICES,
    MESSAGE_CHANNELS,
    REGION_HOSTS,
    ConfigError,
    parse_config,
)

KEY = "fake-app-key"


def test_given_only_key_when_parse_then_defaults_apply():
    parsed = parse_config({"app_api_key": f"  {KEY} "})

    assert parsed.api_key == KEY
    assert parsed.api_base == "https://api.customer.io"
    assert parsed.start_date is None
    assert parsed.message_types == ()
    assert parsed.messages_lookback_days == 30
    assert parsed.customers_filter is None
    assert parsed.customers_attributes == ()
    assert parsed.customers_method == "search"
    assert parsed.activity_types == ()
    assert parsed.activity_mode == "SINGLE_TABLE"
    assert parsed.include_deleted_activities is False
    assert parsed.requests_per_second == 10.0
    assert parsed.max_concurrent_requests == 6
    assert parsed.request_timeout_seconds == 60


@pytest.mark.parametrize(
    "overrides, api_base",
    [
        pytest.param({"region": "US"}, "https://api.customer.io", id="us"),
        pytest.param({"region": "EU"}, "https://api-eu.customer.io", id="eu"),
        pytest.param(
            {"region": "EU", "api_url": "http://127.0.0.1:8080/"}, "http://127.0.0.1:8080", id="api_url_replaces_region"
        ),
        pytest.param(
            {"api_url": "https://proxy.example.com/customerio"},
            "https://proxy.example.com/customerio",
            id="api_url_with_path",
        ),
        pytest.param({"api_url": "  ", "region": "EU"}, "https://api-eu.customer.io", id="blank_api_url_uses_region"),
    ],
)
def test_given_region_or_api_url_when_parse_then_api_base_is_mapped(overrides, api_base):
    assert parse_config({"app_api_key": KEY, **overrides}).api_base == api_base


@pytest.mark.parametrize(
    "types, expected",
    [
        pytest.param(["email", "push"], ("email", "push"), id="kept_in_order"),
        pytest.param(["urban_airship"], ("push",), id="urban_airship_is_push"),
        pytest.param(["push", "urban_airship", "email"], ("push", "email"), id="alias_deduplicated"),
    ],
)
def test_given_message_types_when_parse_then_channels_are_normalised(types, expected):
    assert parse_config({"app_api_key": KEY, "messages": {"types": types}}).message_types == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("", (), id="empty_is_all"),
        pytest.param("email", ("email",), id="one"),
        pytest.param(" email , first_name,email ", ("email", "first_name"), id="trimmed_and_deduplicated"),
    ],
)
def test_given_attribute_list_when_parse_then_names_are_split(text, expected):
    assert parse_config({"app_api_key": KEY, "customers": {"attributes": text}}).customers_attributes == expected


def test_given_start_date_when_parse_then_unix_seconds():
    assert parse_config({"app_api_key": KEY, "start_date": "2024-01-01T00:00:00Z"}).start_date == 1704067200


def test_given_parsed_data_with_types_when_parse_then_accepted():
    parsed = parse_config(
        {"app_api_key": KEY, "activities": {"mode": "PARSED_DATA", "types": ["page", " page ", "event"]}}
    )

    assert (parsed.activity_mode, parsed.activity_types) == ("PARSED_DATA", ("page", "event"))


def test_given_filter_when_parse_then_filter_is_a_dict():
    parsed = parse_config({"app_api_key": KEY, "customers": {"filter": '{"segment":{"id":7}}'}})

    assert parsed.customers_filter == {"segment": {"id": 7}}


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        pytest.param(
            {"app_api_key": " "},
            "app_api_key",
            "Config field `app_api_key`: is missing or empty. Paste an App API key from Customer.io > Settings > API "
            "Credentials > App API Keys.",
            id="blank_key",
        ),
        pytest.param(
            {"region": "eu"},
            "region",
            "Config field `region`: unknown region 'eu'. Use US or EU.",
            id="unknown_region",
        ),
        pytest.param(
            {"api_url": "ftp://files.example.com"},
            "api_url",
            "Config field `api_url`: 'ftp://files.example.com' is not an http(s) URL. Give a URL such as "
            "https://proxy.example.com, or leave it empty to use the region.",
            id="api_url_not_http",
        ),
        pytest.param(
            {"api_url": "https://"},
            "api_url",
            "Config field `api_url`: 'https://' is not an http(s) URL. Give a URL such as https://proxy.example.com, "
            "or leave it empty to use the region.",
            id="api_url_without_host",
        ),
        pytest.param(
            {"start_date": "2024-13-01T00:00:00Z"},
            "start_date",
            "Config field `start_date`: '2024-13-01T00:00:00Z' is not a date-time. Use YYYY-MM-DDTHH:MM:SSZ, e.g. "
            "2024-01-01T00:00:00Z.",
            id="malformed_start_date",
        ),
        pytest.param(
            {"start_date": "2999-01-01T00:00:00Z"},
            "start_date",
            "Config field `start_date`: 2999-01-01T00:00:00Z is in the future, so nothing would be read. Use a past "
            "date, or leave it empty.",
            id="future_start_date",
        ),
        pytest.param(
            {"messages": ["email"]},
            "messages",
            "Config field `messages`: must be an object, got list. Remove it or give an object of options.",
            id="section_not_an_object",
        ),
        pytest.param(
            {"messages": {"types": ["fax"]}},
            "messages.types",
            "Config field `messages.types`: unknown channel 'fax'. Use any of email, webhook, twilio, slack, push, "
            "in_app, or leave the list empty for all.",
            id="unknown_channel",
        ),
        pytest.param(
            {"messages": {"types": ["whatsapp"]}},
            "messages.types",
            "Config field `messages.types`: unknown channel 'whatsapp'. Use any of email, webhook, twilio, slack, "
            "push, in_app, or leave the list empty for all.",
            id="channel_not_in_the_current_reference",
        ),
        pytest.param(
            {"messages": {"lookback_days": 181}},
            "messages.lookback_days",
            "Config field `messages.lookback_days`: 181 is out of range. Use a number from 0 to 180.",
            id="lookback_above_bound",
        ),
        pytest.param(
            {"messages": {"lookback_days": -1}},
            "messages.lookback_days",
            "Config field `messages.lookback_days`: -1 is out of range. Use a number from 0 to 180.",
            id="lookback_below_bound",
        ),
        pytest.param(
            {"requests_per_second": 0},
            "requests_per_second",
            "Config field `requests_per_second`: 0 is out of range. Use a number from 0.1 to 10.",
            id="rate_below_bound",
        ),
        pytest.param(
            {"max_concurrent_requests": 17},
            "max_concurrent_requests",
            "Config field `max_concurrent_requests`: 17 is out of range. Use a number from 1 to 16.",
            id="concurrency_above_bound",
        ),
        pytest.param(
            {"request_timeout_seconds": "60"},
            "request_timeout_seconds",
            "Config field `request_timeout_seconds`: '60' is out of range. Use a number from 1 to 600.",
            id="timeout_as_text",
        ),
        pytest.param(
            {"customers": {"filter": "{segment"}},
            "customers.filter",
            "Config field `customers.filter`: it is not valid JSON (Expecting property name enclosed in double "
            "quotes at character 1). Fix the JSON, or leave it empty to read everyone.",
            id="filter_not_json",
        ),
        pytest.param(
            {"customers": {"filter": '{"attribute":{"field":"plan","operator":"gt","value":"1"}}'}},
            "customers.filter",
            'Config field `customers.filter`: unknown operator "gt" (use eq or exists) in '
            '{"attribute":{"field":"plan","operator":"gt","value":"1"}}. Fix the JSON, or leave it empty to read '
            "everyone.",
            id="filter_unknown_operator",
        ),
        pytest.param(
            {"customers": {"attributes": "email,,plan"}},
            "customers.attributes",
            "Config field `customers.attributes`: 'email,,plan' has an empty attribute name. Separate names with "
            "single commas, e.g. email,first_name, or leave it empty for all.",
            id="empty_attribute_name",
        ),
        pytest.param(
            {"customers": {"method": "bulk"}},
            "customers.method",
            "Config field `customers.method`: unknown value 'bulk'. Use one of search, export.",
            id="unknown_customers_method",
        ),
        pytest.param(
            {"activities": {"mode": "PARSED_DATA"}},
            "activities.types",
            "Config field `activities.types`: is empty, but PARSED_DATA makes one stream per selected type. List the "
            "activity types to read, or use mode SINGLE_TABLE.",
            id="parsed_data_without_types",
        ),
        pytest.param(
            {"activities": {"types": ["page", " "]}},
            "activities.types",
            "Config field `activities.types`: has an empty activity type. Remove the empty entry.",
            id="blank_activity_type",
        ),
    ],
)
def test_given_invalid_config_when_parse_then_config_error_names_field(overrides, field, message):
    with pytest.raises(ConfigError) as raised:
        parse_config({"app_api_key": KEY, **overrides})

    assert raised.value.field == field
    assert raised.value.message == message
    assert raised.value.failure_type == FailureType.config_error


def spec_property(field: str) -> dict:
    spec = json.loads((Path(source_customerio.__file__).parent / "spec.json").read_text())
    node = spec["connectionSpecification"]
    for part in field.split("."):
        node = node["properties"][part]
    return node


@pytest.mark.parametrize("field", sorted(BOUNDS))
def test_spec_states_the_default_and_bounds_the_config_applies(field):
    bounds = spec_property(field)
    assert (bounds["default"], bounds["minimum"], bounds["maximum"]) == (
        BOUNDS[field].default,
        BOUNDS[field].low,
        BOUNDS[field].high,
    )


@pytest.mark.parametrize("field", sorted(CHOICES))
def test_spec_offers_the_choices_and_default_the_config_accepts(field):
    choices, default = CHOICES[field]
    assert (spec_property(field)["enum"], spec_property(field)["default"]) == (list(choices), default)


def test_spec_offers_the_regions_and_channels_the_config_accepts():
    assert spec_property("region")["enum"] == list(REGION_HOSTS)
    assert spec_property("messages.types")["items"]["enum"] == [*MESSAGE_CHANNELS, *CHANNEL_ALIASES]
