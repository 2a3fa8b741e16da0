"""Pure pieces of the activities streams: stream names, flattened `data`, inferred columns, early stop.

Stream names (PARSED_DATA): `activity_` + the type, lower-cased, with every character other than
a-z, 0-9 and `_` replaced by `_`. So `sent_email` → `activity_sent_email`,
`_o:12:create` → `activity__o_12_create`, `_r:3:attribute_change` → `activity__r_3_attribute_change`.

Flattened columns: each key of `data` becomes `data_<key>`; nested objects are joined with `_`
(`{"address": {"city": "Oslo"}}` → `data_address_city`). Arrays and empty objects stay values.
When two paths flatten to the same column, the first one in the payload wins.
"""

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from source_customerio.people_changes import LOG_HORIZON_SECONDS

SINGLE_TABLE_STREAM = "activities_all"
PARSED_STREAM_PREFIX = "activity_"
DATA_PREFIX = "data"

_UNSAFE = re.compile(r"[^a-z0-9_]")
_JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def stream_name(activity_type: str) -> str:
    """The PARSED_DATA stream of an activity type."""
    return PARSED_STREAM_PREFIX + _UNSAFE.sub("_", activity_type.lower())


def colliding_types(activity_types: Iterable[str]) -> List[List[str]]:
    """Groups of types that would share one stream name (each group has 2+ types)."""
    groups: Dict[str, List[str]] = {}
    for activity_type in activity_types:
        groups.setdefault(stream_name(activity_type), []).append(activity_type)
    return [group for group in groups.values() if len(group) > 1]


def flatten(data: Any, prefix: str = DATA_PREFIX) -> Dict[str, Any]:
    """`data` as top-level columns `data_<key>[_<nested key>...]`; a non-object `data` is one column `data`."""
    if not isinstance(data, Mapping):
        return {} if data is None else {prefix: data}
    columns: Dict[str, Any] = {}
    for key, value in data.items():
        column = f"{prefix}_{key}"
        nested = flatten(value, column) if isinstance(value, Mapping) and value else {column: value}
        for name, leaf in nested.items():
            columns.setdefault(name, leaf)
    return columns


def parsed_record(record: Mapping[str, Any]) -> Dict[str, Any]:
    """An activity with its `data` object replaced by flattened `data_*` columns."""
    flat = {key: value for key, value in record.items() if key != DATA_PREFIX}
    for column, value in flatten(record.get(DATA_PREFIX)).items():
        flat.setdefault(column, value)
    return flat


def json_type(value: Any) -> Optional[str]:
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return None


def learned_columns(records: Iterable[Mapping[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Nullable JSON-schema properties for the `data` columns of sample records, typed as seen.

    Integers are declared as number, so a later fractional value still fits; a column seen only
    as null accepts any value.
    """
    seen: Dict[str, set] = {}
    for record in records:
        for column, value in record.items():
            if column == DATA_PREFIX or column.startswith(DATA_PREFIX + "_"):
                kind = json_type(value)
                seen.setdefault(column, set()).update({"number" if kind == "integer" else kind} if kind else ())
    return {column: {"type": ["null", *sorted(kinds)]} if kinds else {} for column, kinds in seen.items()}


class PageOrder:
    """What the timestamps of a series' pages, in the order they came, show about its order. The
    reference does not document the order of GET /v1/activities, so paging may stop early only once
    the series has shown itself newest first: some timestamp went down and none went up."""

    def __init__(self) -> None:
        self._last: Optional[int] = None
        self._went_down = False
        self._went_up = False

    def observe(self, records: Iterable[Mapping[str, Any]], cursor_field: str = "timestamp") -> None:
        for record in records:
            stamp = record.get(cursor_field)
            if not isinstance(stamp, int):
                continue
            if self._last is not None:
                self._went_down |= stamp < self._last
                self._went_up |= stamp > self._last
            self._last = stamp

    @property
    def newest_first(self) -> bool:
        return self._went_down and not self._went_up


def page_is_older(records: Iterable[Mapping[str, Any]], bound: Optional[int], cursor_field: str = "timestamp") -> bool:
    """True when every record of a non-empty page is older than `bound` (in a newest-first series:
    every later page is too)."""
    if bound is None:
        return False
    stamps = [record.get(cursor_field) for record in records]
    return bool(stamps) and all(isinstance(stamp, int) and stamp < bound for stamp in stamps)


def stop_bound(saved: Optional[int], start_date: Optional[int], margin_seconds: int) -> Optional[int]:
    """The timestamp below which a type's pages need not be read: the saved cursor less a safety
    margin (activities recorded late), and never below `start_date`."""
    bounds = [value for value in (None if saved is None else saved - margin_seconds, start_date) if value is not None]
    return max(bounds) if bounds else None


def beyond_horizon(saved: Optional[int], now: int) -> Optional[Tuple[int, int]]:
    """(saved, start of the log's guaranteed 30 days) when a saved cursor is older than that start."""
    kept_from = now - LOG_HORIZON_SECONDS
    return (saved, kept_from) if saved is not None and saved < kept_from else None


def expand(prefix: str, suffixes: str) -> Tuple[str, ...]:
    return tuple(f"{prefix}_{suffix}" for suffix in suffixes.split())


# Every activity type Customer.io's reference lists (its `type` enum and the newer WhatsApp types),
# besides the object (`_o:<id>:`) and relationship (`_r:<id>:`) types of each object type.
DOCUMENTED_TYPES: Tuple[str, ...] = (
    "add_relationship",
    "anon_merge",
    *expand("attempted", "action email in_app push slack twilio webhook whatsapp"),
    "attribute_change",
    *expand("bounced", "action email push twilio whatsapp"),
    *expand("clicked", "action content email in_app push twilio webhook"),
    *expand("converted", "action content email in_app slack twilio webhook whatsapp"),
    *expand("deferred", "action email in_app push slack twilio webhook whatsapp"),
    "delete_relationship",
    *expand("delivered", "action email push twilio whatsapp"),
    "device_change",
    *expand("drafted", "action email in_app push slack twilio webhook"),
    *expand("dropped", "action email push twilio webhook whatsapp whatasapp"),
    "event",
    *expand(
        "failed",
        "action attribute_change batch_update email event in_app object_journeys push query_collection slack "
        "twilio webhook whatsapp",
    ),
    *expand("opened", "action email in_app push"),
    "page",
    "profile_create",
    "profile_delete",
    "profile_merge",
    "relationship_attribute_change",
    "relationship_failed_attribute_change",
    "screen",
    *expand("sent", "action email in_app push slack twilio webhook whatsapp"),
    "skipped_update",
    "spammed_email",
    "suppressed_twilio",
    "suppressed_whatsapp",
    "topic_unsubscribed_email",
    *expand("undeliverable", "action email in_app push slack twilio webhook whatsapp"),
    *expand("unsubscribed", "action email"),
    "viewed_content",
    "webhook_event",
)
OBJECT_TYPE_SUFFIXES = (
    "add_relationship",
    "attribute_change",
    "create",
    "delete",
    "delete_relationship",
    "failed_attribute_change",
)
RELATIONSHIP_TYPE_SUFFIXES = ("attribute_change", "failed_attribute_change")


def types_to_read(object_type_ids: Iterable[str], seen: Iterable[Optional[str]]) -> Tuple[str, ...]:
    """Every type to read one by one: the documented ones, the object and relationship types of each
    object type, and any other type `seen` (on the newest page of the whole log), each once."""
    object_types = [
        f"{kind}:{type_id}:{suffix}"
        for type_id in object_type_ids
        for kind, suffixes in (("_o", OBJECT_TYPE_SUFFIXES), ("_r", RELATIONSHIP_TYPE_SUFFIXES))
        for suffix in suffixes
    ]
    return tuple(dict.fromkeys([*DOCUMENTED_TYPES, *object_types, *(kind for kind in seen if kind)]))
