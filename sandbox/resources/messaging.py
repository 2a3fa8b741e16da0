"""Messaging settings: sender identities, snippets and reporting webhooks."""

from typing import Any, Dict, List

from sandbox.api import Request, decode_cursor, encode_cursor, page_limit, route
from sandbox.workspace import DAY, TOPICS, Workspace

WEBHOOK_EVENTS = (
    "email_sent",
    "email_delivered",
    "email_opened",
    "email_clicked",
    "email_bounced",
    "push_sent",
    "sms_sent",
    "customer_unsubscribed",
)
# Endpoints as users type them; the connector must strip the credentials of the second and third.
WEBHOOK_ENDPOINTS = (
    "https://hooks.example.com/customerio/events",
    "https://warehouse:s3cr3t-pass@collector.example.com/cio?source=sandbox",
    "https://ingest-token@ingest.example.org:8443/v2/events",
    "http://analytics.example.net/hook",
)


def sender_identity(ws: Workspace, index: int) -> Dict[str, Any]:
    """Every tenth identity is a phone sender."""
    updated = ws.now - int(ws.fraction("sender", index) * 400) * DAY
    name = f"{TOPICS[index % len(TOPICS)].title()} team {index}"
    phone = index % 10 == 9
    email = None if phone else f"team{index}@example.com"
    return {
        "id": 400 + index,
        "deduplicate_id": f"{400 + index}:{updated}",
        "name": name,
        "email": email,
        "address": f"+1555{index:07d}" if phone else f"{name} <{email}>",
        "template_type": "phone" if phone else "email",
        "auto_generated": index == 0,
    }


def is_hidden_sender(index: int) -> bool:
    """Every ninth identity is hidden."""
    return index % 9 == 8


def sender_identities(ws: Workspace, include_hidden: bool) -> List[Dict[str, Any]]:
    """As the current reference says: the default listing omits hidden senders, and `hidden=true`
    includes them *as well*. Records carry no hidden flag."""
    return [
        sender_identity(ws, index)
        for index in range(ws.knobs.sender_identities)
        if include_hidden or not is_hidden_sender(index)
    ]


def snippets(ws: Workspace) -> List[Dict[str, Any]]:
    names = ("footer", "address", "legal", "unsubscribe_line", "signature", "promo_banner", "support_hours")
    return [
        {
            "name": name,
            "value": f"<p>{name.replace('_', ' ').title()} of the sandbox workspace</p>",
            "updated_at": ws.now - int(ws.fraction("snippet", name) * 300) * DAY,
        }
        for name in names
    ]


def reporting_webhooks(ws: Workspace) -> List[Dict[str, Any]]:
    return [
        {
            "id": index + 1,
            "name": f"Webhook {index + 1}",
            "endpoint": endpoint,
            "disabled": index == 3,
            "full_resolution": index % 2 == 0,
            "with_content": index == 1,
            "events": list(WEBHOOK_EVENTS[index : index + 4]),
        }
        for index, endpoint in enumerate(WEBHOOK_ENDPOINTS)
    ]


@route("GET", "sender_identities", scope="sender_identities")
def list_sender_identities(ws: Workspace, request: Request):
    """Like the live API, `next` keeps coming after the last page: only an empty page ends the listing."""
    items = sender_identities(ws, include_hidden=request.bool_arg("hidden"))
    limit = page_limit(request, 50, 1000)
    start = decode_cursor("senders", request.arg("start"))
    chunk = items[start : start + limit]
    return {"sender_identities": chunk, "next": encode_cursor("senders", start + limit)}


@route("GET", "snippets", scope="snippets")
def list_snippets(ws: Workspace, request: Request):
    return {"snippets": snippets(ws)}


@route("GET", "reporting_webhooks", scope="reporting_webhooks")
def list_reporting_webhooks(ws: Workspace, request: Request):
    return {"reporting_webhooks": reporting_webhooks(ws)}
