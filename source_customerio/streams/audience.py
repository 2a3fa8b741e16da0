"""Audience resources besides people and segments: objects, subscription topics, ESP suppressions, collections."""

from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Tuple

from source_customerio.streams.base import (
    CursorPaginatedStream,
    CustomerioStream,
    MixinBase,
    OffsetPaginatedStream,
    SubstreamMixin,
)

SUPPRESSION_TYPES = ("bounces", "blocks", "spam_reports", "invalid_emails")


def every_object_filter(object_type_id: str) -> Dict[str, Any]:
    """A search meant to match every object of a type: each object has an `object_id`. The current
    reference offers no filter documented to select every object (only `object_attribute` conditions
    with `eq` and `exists`, combined by and/or/not; it points to the UI's export for complete
    results); `exists` on the identifier every object has is the closest it documents."""
    return {
        "object_type_id": object_type_id,
        "filter": {
            "and": [{"object_attribute": {"field": "object_id", "operator": "exists", "type_id": object_type_id}}]
        },
    }


def unique_slices(records: Iterable[Mapping[str, Any]], fields: Tuple[str, ...]) -> Iterable[Dict[str, Any]]:
    """One slice per distinct combination of `fields`, in first-seen order (search pages can repeat)."""
    seen = set()
    for record in records:
        key = tuple(record[name] for name in fields)
        if key not in seen:
            seen.add(key)
            yield dict(zip(fields, key, strict=True))


class ObjectTypes(CustomerioStream):
    """GET /v1/object_types: `id` is an integer in a string ("1"), kept as the API sends it."""

    data_field = "types"
    path_template = "object_types"


class ObjectIdentifiers(SubstreamMixin, CursorPaginatedStream):
    """POST /v1/objects per object type: the identifiers of every object (not a stream; the parent of `objects`)."""

    http_method = "POST"
    primary_key = ["object_type_id", "object_id"]
    data_field = "identifiers"
    path_template = "objects"
    page_size = 1000
    parent = ObjectTypes
    slice_field = "object_type_id"

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return every_object_filter(stream_slice["object_type_id"])

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK's is this, lru-cached
        return {"type": "object", "additionalProperties": True}  # never discovered, so no schema file


class EveryObjectMixin(MixinBase):
    """One slice per object the search found, each once (search pages can repeat), addressed by
    `cio_object_id` (Customer.io's immutable, URL-safe id), not the user's `object_id`."""

    carried_slice_fields = ("object_type_id", "cio_object_id", "object_id")
    ignore_missing_parent = True  # an object deleted mid-sync answers 404: skipped

    parent = ObjectIdentifiers

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        return unique_slices(self.context.parents.records(self.parent, self.context), self.carried_slice_fields)

    fixed_params = {"id_type": "cio_object_id"}


class Objects(EveryObjectMixin, CustomerioStream):
    """GET /v1/objects/{type}/{cio_object_id}/attributes for each object."""

    primary_key = ["object_type_id", "cio_object_id"]
    data_field = "object"
    path_template = "objects/{object_type_id}/{cio_object_id}/attributes"

    def extract_records(self, body: Mapping[str, Any]) -> List[MutableMapping[str, Any]]:
        return [body[self.data_field]] if body.get(self.data_field) else []


class ObjectRelationships(EveryObjectMixin, CursorPaginatedStream):
    """GET /v1/objects/{type}/{cio_object_id}/relationships for each object: the people related to it,
    with the relationship's attributes; cursor pages of `cio_relationships`."""

    primary_key = ["object_type_id", "cio_object_id", "cio_id"]
    data_field = "cio_relationships"
    path_template = "objects/{object_type_id}/{cio_object_id}/relationships"
    page_size = 1000

    def transform(self, record: MutableMapping[str, Any]) -> Mapping[str, Any]:
        identifiers = record.get("identifiers") or {}
        return {**record, **{name: identifiers.get(name) for name in ("cio_id", "id", "email")}}


class SubscriptionTopics(CustomerioStream):
    """GET /v1/subscription_topics: the topics of the subscription center."""

    data_field = "topics"
    path_template = "subscription_topics"


class EspSuppressions(OffsetPaginatedStream):
    """GET /v1/esp/suppression/{type} for bounces, blocks, spam reports and invalid emails: offset paging."""

    primary_key = ["suppression_type", "email"]
    data_field = "suppressions"
    path_template = "esp/suppression/{suppression_type}"
    page_size = 1000
    carried_slice_fields = ("suppression_type",)

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        return [{"suppression_type": name} for name in SUPPRESSION_TYPES]


class Collections(CustomerioStream):
    """GET /v1/collections: collection metadata (the contents are the customer's own data, not read).
    Full refresh: live, `updated_at` stayed at `created_at` while rows changed, and a workspace holds
    at most 50 collections."""

    data_field = "collections"
    path_template = "collections"
