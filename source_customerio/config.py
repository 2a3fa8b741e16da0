"""The connector's configuration, checked once at the boundary and turned into typed values.

JSON schema (spec.json) already checks types, enums and bounds; this module checks what it cannot
and raises a config error that names the field and says how to fix it.
"""

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import pendulum
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_customerio.filters import FilterError, parse_filter

REGION_HOSTS = {"US": "https://api.customer.io", "EU": "https://api-eu.customer.io"}
# The values the current reference lists for GET /v1/messages `type`.
MESSAGE_CHANNELS = ("email", "webhook", "twilio", "slack", "push", "in_app")
# Keboola's extractor offered urban_airship, Customer.io's former push provider.
CHANNEL_ALIASES = {"urban_airship": "push"}
ACTIVITY_MODES = ("SINGLE_TABLE", "PARSED_DATA")
CUSTOMER_METHODS = ("search", "export")
METRIC_PERIODS = ("hours", "days", "weeks", "months")


@dataclass(frozen=True)
class Bounds:
    default: float
    low: float
    high: float


# spec.json states the same choices, defaults and bounds; unit_tests/test_config.py ties the two.
CHOICES = {  # field: (the values, the default)
    "customers.method": (CUSTOMER_METHODS, "search"),
    "activities.mode": (ACTIVITY_MODES, "SINGLE_TABLE"),
    "metrics.period": (METRIC_PERIODS, "days"),
}
BOUNDS = {
    "messages.lookback_days": Bounds(30, 0, 180),
    "activities.lookback_minutes": Bounds(60, 0, 43200),
    "edits_lookback_minutes": Bounds(60, 0, 1440),
    "customers.export_timeout_minutes": Bounds(120, 1, 1440),
    "customers.lookback_minutes": Bounds(60, 0, 1440),
    "customers.full_read_every_days": Bounds(7, 0, 365),
    "requests_per_second": Bounds(10, 0.1, 10),
    "max_concurrent_requests": Bounds(6, 1, 16),
    "request_timeout_seconds": Bounds(60, 1, 600),
    "rate_limit_max_wait_minutes": Bounds(30, 0, 1440),
}


class ConfigError(AirbyteTracedException):
    """A configuration value that cannot work; the message names the field."""

    def __init__(self, field: str, problem: str, fix: str):
        message = f"Config field `{field}`: {problem}. {fix}"
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)
        self.field = field


class StateError(AirbyteTracedException):
    """A saved state this connector cannot resume from; the message says where and the way out."""

    def __init__(self, where: str, problem: str):
        message = (
            f"{where} {problem}. Clear the stream's data in Airbyte (or sync without this state) "
            "to read again from `start_date`."
        )
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass(frozen=True)
class ConnectorConfig:
    api_key: str
    api_base: str
    start_date: Optional[int]
    message_types: Tuple[str, ...]
    messages_lookback_days: int
    customers_filter: Optional[Mapping[str, Any]]
    customers_attributes: Tuple[str, ...]
    customers_method: str
    export_timeout_minutes: int
    customers_lookback_minutes: int
    customers_full_read_every_days: int
    activity_types: Tuple[str, ...]
    activity_mode: str
    include_deleted_activities: bool
    activities_read_by_type: bool
    activities_lookback_minutes: int
    edits_lookback_minutes: int
    metrics_period: str
    requests_per_second: float
    max_concurrent_requests: int
    request_timeout_seconds: int
    rate_limit_max_wait_minutes: int


def _section(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = config.get(name) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            name, f"must be an object, got {type(value).__name__}", "Remove it or give an object of options."
        )
    return value


def _api_base(config: Mapping[str, Any]) -> str:
    api_url = (config.get("api_url") or "").strip()
    if api_url:
        parts = urlsplit(api_url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                "api_url",
                f"{api_url!r} is not an http(s) URL",
                "Give a URL such as https://proxy.example.com, or leave it empty to use the region.",
            )
        return api_url.rstrip("/")
    region = config.get("region") or "US"
    if region not in REGION_HOSTS:
        raise ConfigError("region", f"unknown region {region!r}", "Use US or EU.")
    return REGION_HOSTS[region]


def _start_date(text: Optional[str]) -> Optional[int]:
    if not text:
        return None
    try:
        moment = pendulum.parse(text, strict=True)
    except (ValueError, TypeError, pendulum.parsing.exceptions.ParserError):
        raise ConfigError(
            "start_date", f"{text!r} is not a date-time", "Use YYYY-MM-DDTHH:MM:SSZ, e.g. 2024-01-01T00:00:00Z."
        ) from None
    if not isinstance(moment, pendulum.DateTime):
        raise ConfigError(
            "start_date", f"{text!r} is not a date-time", "Use YYYY-MM-DDTHH:MM:SSZ, e.g. 2024-01-01T00:00:00Z."
        )
    if moment > pendulum.now("UTC"):
        raise ConfigError(
            "start_date", f"{text} is in the future, so nothing would be read", "Use a past date, or leave it empty."
        )
    return moment.int_timestamp


def _message_types(values: Any) -> Tuple[str, ...]:
    channels = []
    for value in values or ():
        channel = CHANNEL_ALIASES.get(value, value)
        if channel not in MESSAGE_CHANNELS:
            raise ConfigError(
                "messages.types",
                f"unknown channel {value!r}",
                f"Use any of {', '.join(MESSAGE_CHANNELS)}, or leave the list empty for all.",
            )
        if channel not in channels:
            channels.append(channel)
    return tuple(channels)


def _attributes(text: Optional[str]) -> Tuple[str, ...]:
    if not text or not text.strip():
        return ()
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise ConfigError(
            "customers.attributes",
            f"{text!r} has an empty attribute name",
            "Separate names with single commas, e.g. email,first_name, or leave it empty for all.",
        )
    return tuple(dict.fromkeys(names))


def _bounded(section: Mapping[str, Any], field: str) -> Any:
    """The number at `field` (dotted, its last part the key in `section`), within BOUNDS[field]."""
    bounds = BOUNDS[field]
    value = section.get(field.split(".")[-1])
    if value is None:
        return bounds.default
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isnan(value)
        or not bounds.low <= value <= bounds.high
    ):
        raise ConfigError(field, f"{value!r} is out of range", f"Use a number from {bounds.low:g} to {bounds.high:g}.")
    return value


def _choice(section: Mapping[str, Any], field: str) -> str:
    """The value at `field` (dotted, its last part the key in `section`), one of CHOICES[field]."""
    choices, default = CHOICES[field]
    value = section.get(field.split(".")[-1]) or default
    if value not in choices:
        raise ConfigError(field, f"unknown value {value!r}", f"Use one of {', '.join(choices)}.")
    return value


def parse_config(config: Mapping[str, Any]) -> ConnectorConfig:
    """Check the whole configuration and return it typed; raise ConfigError on the first problem."""
    api_key = config.get("app_api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        raise ConfigError(
            "app_api_key",
            "is missing or empty",
            "Paste an App API key from Customer.io > Settings > API Credentials > App API Keys.",
        )
    messages = _section(config, "messages")
    customers = _section(config, "customers")
    activities = _section(config, "activities")
    metrics = _section(config, "metrics")

    try:
        customers_filter = parse_filter(customers.get("filter"))
    except FilterError as error:
        raise ConfigError("customers.filter", str(error), "Fix the JSON, or leave it empty to read everyone.") from None

    activity_types = tuple(dict.fromkeys(str(t).strip() for t in activities.get("types") or ()))
    if any(not t for t in activity_types):
        raise ConfigError("activities.types", "has an empty activity type", "Remove the empty entry.")
    activity_mode = _choice(activities, "activities.mode")
    if activity_mode == "PARSED_DATA" and not activity_types:
        raise ConfigError(
            "activities.types",
            "is empty, but PARSED_DATA makes one stream per selected type",
            "List the activity types to read, or use mode SINGLE_TABLE.",
        )

    return ConnectorConfig(
        api_key=api_key.strip(),
        api_base=_api_base(config),
        start_date=_start_date(config.get("start_date")),
        message_types=_message_types(messages.get("types")),
        messages_lookback_days=int(_bounded(messages, "messages.lookback_days")),
        customers_filter=customers_filter,
        customers_attributes=_attributes(customers.get("attributes")),
        customers_method=_choice(customers, "customers.method"),
        export_timeout_minutes=int(_bounded(customers, "customers.export_timeout_minutes")),
        customers_lookback_minutes=int(_bounded(customers, "customers.lookback_minutes")),
        customers_full_read_every_days=int(_bounded(customers, "customers.full_read_every_days")),
        activity_types=activity_types,
        activity_mode=activity_mode,
        include_deleted_activities=bool(activities.get("include_deleted", False)),
        activities_read_by_type=bool(activities.get("read_by_type", False)),
        activities_lookback_minutes=int(_bounded(activities, "activities.lookback_minutes")),
        edits_lookback_minutes=int(_bounded(config, "edits_lookback_minutes")),
        metrics_period=_choice(metrics, "metrics.period"),
        requests_per_second=float(_bounded(config, "requests_per_second")),
        max_concurrent_requests=int(_bounded(config, "max_concurrent_requests")),
        request_timeout_seconds=int(_bounded(config, "request_timeout_seconds")),
        rate_limit_max_wait_minutes=int(_bounded(config, "rate_limit_max_wait_minutes")),
    )
