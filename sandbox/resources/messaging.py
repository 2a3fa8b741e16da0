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


def sender_identities(ws: Workspace, hidden: bool) -> List[Dict[str, Any]]:
    """The senders a listing holds. Live, `hidden=true` lists only the hidden senders; the reference
    says it includes them besides the visible ones. Without it, the visible ones. No record carries
    a hidden flag."""
    return [
        sender_identity(ws, index)
        for index in range(ws.knobs.sender_identities)
        if (is_hidden_sender(index) == hidden if ws.live.senders_hidden_only else hidden or not is_hidden_sender(index))
    ]


def snippets(ws: Workspace) -> List[Dict[str, Any]]:
    """Snippets as they are now (edits while they are read change `value`; see `Workspace.editing`)."""
    names = ("footer", "address", "legal", "unsubscribe_line", "signature", "promo_banner", "support_hours")
    return [
        ws.as_edited(
            "snippet",
            {
                "name": name,
                "value": f"<p>{name.replace('_', ' ').title()} of the sandbox workspace</p>",
                "updated_at": ws.now - int(ws.fraction("snippet", name) * 300) * DAY,
            },
            "updated_at",
            label_field="value",
            key="name",
        )
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


@route("GET", "sender_identities", scope="sender_identities", listing=("sender_identities",))
def list_sender_identities(ws: Workspace, request: Request):
    """Live, every page carries a `next`, so the last page is followed by an empty one with next ""."""
    items = sender_identities(ws, hidden=request.bool_arg("hidden"))
    limit = page_limit(request, 50, 1000)
    start = decode_cursor("senders", request.arg("start"))
    chunk = items[start : start + limit]
    end = start + len(chunk)
    more = end < len(items) or (ws.live.senders_hidden_only and bool(chunk))
    return {"sender_identities": chunk, "next": encode_cursor("senders", end) if more else ""}


@route("GET", "snippets", scope="snippets")
def list_snippets(ws: Workspace, request: Request):
    served = snippets(ws)
    ws.edit_while_read("snippet", served, key="name")
    return {"snippets": served}


@route("GET", "reporting_webhooks", scope="reporting_webhooks")
def list_reporting_webhooks(ws: Workspace, request: Request):
    return {"reporting_webhooks": reporting_webhooks(ws)}
