"""Expected records of the messaging, audience and workspace streams (merged into `testkit.expected`).

Each function states the connector's documented transforms explicitly (parent ids and list names
carried into records, "nil" tags as null, credentials stripped from URLs); ids are the sandbox's own
integers, whatever form the API serves them in.
"""

from typing import Any, Callable, Dict, List, Mapping

from sandbox.resources import audience, broadcasts, exports, info, messaging, newsletters, segments, transactional
from sandbox.workspace import Workspace

Records = List[Dict[str, Any]]

# What the connector must emit for each endpoint in messaging.WEBHOOK_ENDPOINTS, in order.
STRIPPED_WEBHOOK_ENDPOINTS = (
    "https://hooks.example.com/customerio/events",
    "https://collector.example.com/cio?source=sandbox",
    "https://ingest.example.org:8443/v2/events",
    "http://analytics.example.net/hook",
)


def expected_broadcasts(ws: Workspace, config: Mapping[str, Any]) -> Records:
    records = broadcasts.broadcast_list(ws)
    return [{**record, "tags": None if record["tags"] == "nil" else record["tags"]} for record in records]


def expected_broadcast_actions(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        action for broadcast_id in broadcasts.broadcast_ids(ws) for action in broadcasts.action_list(ws, broadcast_id)
    ]


def expected_broadcast_triggers(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        trigger
        for broadcast_id in broadcasts.broadcast_ids(ws)
        for trigger in broadcasts.broadcast_triggers(ws, broadcast_id)
    ]


def expected_newsletter_contents(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        content
        for newsletter_id in range(1, ws.knobs.newsletters + 1)
        for content in newsletters.newsletter_contents(ws, newsletter_id)
    ]


def expected_newsletter_test_groups(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        {**group, "newsletter_id": newsletter_id}
        for newsletter_id in range(1, ws.knobs.newsletters + 1)
        for group in newsletters.newsletter_test_groups(ws, newsletter_id)
    ]


def expected_transactional_messages(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return transactional.transactional_list(ws)


def expected_transactional_contents(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        {**content, "transactional_id": message_id}
        for message_id in transactional.transactional_ids(ws)
        for content in transactional.content_list(ws, message_id)
    ]


def expected_sender_identities(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        {**messaging.sender_identity(ws, index), "hidden": messaging.is_hidden_sender(index)}
        for index in range(ws.knobs.sender_identities)
    ]


def expected_snippets(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return messaging.snippets(ws)


def expected_reporting_webhooks(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        {**webhook, "endpoint": endpoint}
        for webhook, endpoint in zip(messaging.reporting_webhooks(ws), STRIPPED_WEBHOOK_ENDPOINTS, strict=True)
    ]


def expected_segment_usage(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [segments.segment_usage(ws, segment_id) for segment_id in segments.segment_ids(ws)]


def expected_object_types(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [dict(kind) for kind in audience.OBJECT_TYPES]


def expected_objects(ws: Workspace, config: Mapping[str, Any]) -> Records:
    """Every object of every type exactly once, although the search repeats some across pages."""
    return [
        {**item, **item["identifiers"]}
        for kind in audience.OBJECT_TYPES
        for item in audience.objects_of_type(ws, kind["id"])
    ]


def expected_object_relationships(ws: Workspace, config: Mapping[str, Any]) -> Records:
    """Every object's related people once, keyed by the object and the person."""
    return [
        {
            **relationship,
            "object_type_id": kind["id"],
            "cio_object_id": item["identifiers"]["cio_object_id"],
            "object_id": item["identifiers"]["object_id"],
            **{name: relationship["identifiers"][name] for name in ("cio_id", "id", "email")},
        }
        for kind in audience.OBJECT_TYPES
        for index, item in enumerate(audience.objects_of_type(ws, kind["id"]))
        for relationship in audience.relationships(ws, kind["id"], index)
    ]


def expected_subscription_topics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return audience.subscription_topics(ws)


def expected_esp_suppressions(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        {**suppression, "suppression_type": suppression_type}
        for suppression_type in audience.SUPPRESSION_TYPES
        for suppression in audience.suppressions(ws, suppression_type)
    ]


def expected_collections(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return audience.collections(ws)


def expected_exports(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return exports.list_export_records(ws)


def expected_ip_addresses(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [{"ip_address": address} for address in info.IP_ADDRESSES]


EXPECTED: Dict[str, Callable[[Workspace, Mapping[str, Any]], Records]] = {
    "broadcasts": expected_broadcasts,
    "broadcast_actions": expected_broadcast_actions,
    "broadcast_triggers": expected_broadcast_triggers,
    "newsletter_contents": expected_newsletter_contents,
    "newsletter_test_groups": expected_newsletter_test_groups,
    "transactional_messages": expected_transactional_messages,
    "transactional_contents": expected_transactional_contents,
    "sender_identities": expected_sender_identities,
    "snippets": expected_snippets,
    "reporting_webhooks": expected_reporting_webhooks,
    "segment_usage": expected_segment_usage,
    "object_types": expected_object_types,
    "objects": expected_objects,
    "object_relationships": expected_object_relationships,
    "subscription_topics": expected_subscription_topics,
    "esp_suppressions": expected_esp_suppressions,
    "collections": expected_collections,
    "exports": expected_exports,
    "ip_addresses": expected_ip_addresses,
}
