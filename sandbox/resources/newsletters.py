"""Newsletters (one-time sends)."""

from typing import Any, Dict, List

from sandbox.api import Request, cursor_page, existing_id, first_unread_id, route
from sandbox.workspace import DAY, TOPICS, Workspace

CHANNELS = ("email", "email", "email", "push", "twilio", "in_app", "webhook", "slack")


def newsletter(ws: Workspace, newsletter_id: int) -> Dict[str, Any]:
    rng = ws.rng("newsletter", newsletter_id)
    created = ws.now - rng.randint(1, 700) * DAY
    updated = min(created + rng.randint(0, 30) * DAY, ws.now)
    sent = min(updated + DAY, ws.now) if newsletter_id % 4 else None
    return {
        "id": newsletter_id,
        "deduplicate_id": f"{newsletter_id}:{updated}",
        "name": f"{TOPICS[newsletter_id % len(TOPICS)].title()} newsletter {newsletter_id}",
        "type": CHANNELS[newsletter_id % len(CHANNELS)],
        "content_ids": [newsletter_id * 10 + k for k in range(1 + newsletter_id % 3)],
        "sent_at": sent,
        "created": created,
        "updated": updated,
        "tags": [TOPICS[newsletter_id % len(TOPICS)]],
        "recipient_segment_ids": [1 + newsletter_id % ws.knobs.segments],
        "subscription_topic_id": 1 + newsletter_id % 3,
    }


def newsletters(ws: Workspace) -> List[Dict[str, Any]]:
    """The newsletters as they are now (edits while they are read included; see `Workspace.editing`)."""
    return [
        ws.as_edited("newsletter", newsletter(ws, newsletter_id), "updated")
        for newsletter_id in range(1, ws.knobs.newsletters + 1)
    ]


@route("GET", "newsletters", scope="newsletters", listing=("newsletters",))
def list_newsletters(ws: Workspace, request: Request):
    items = newsletters(ws)
    if request.arg("sort") == "desc":
        items.reverse()
    chunk, next_cursor = cursor_page(request, "newsletters", items, 50, 100)
    ws.edit_while_read("newsletter", chunk, unread=first_unread_id(items, chunk, next_cursor, ()))
    return {"newsletters": list(chunk), "next": next_cursor}


def require_newsletter(ws: Workspace, request: Request) -> int:
    return existing_id(request, "newsletter_id", range(1, ws.knobs.newsletters + 1), "newsletter")


def newsletter_contents(ws: Workspace, newsletter_id: int) -> List[Dict[str, Any]]:
    """One variant per content id: A/B variants for email, one message otherwise."""
    parent = newsletter(ws, newsletter_id)
    email = parent["type"] == "email"
    contents = []
    for index, content_id in enumerate(parent["content_ids"]):
        label = chr(65 + index)
        content: Dict[str, Any] = {
            "id": content_id,
            "newsletter_id": newsletter_id,
            "deduplicate_id": f"{content_id}:{parent['updated']}",
            "name": f"Variant {label}",
            "layout": "<html>{{content}}</html>" if email else None,
            "body": f"{parent['name']}, variant {label}",
            "language": "",
            "type": parent["type"],
            "recipient": "{{customer.email}}" if email else "{{customer.id}}",
            "headers": "{}",
        }
        if email:
            content.update(
                {
                    "from": "Sandbox <hello@example.com>",
                    "from_id": 7,
                    "reply_to": None,
                    "reply_to_id": None,
                    "subject": f"{parent['name']} ({label})",
                    "preheader_text": "",
                    "body_amp": None,
                    "fake_bcc": False,
                }
            )
        contents.append(content)
    return contents


def newsletter_test_groups(ws: Workspace, newsletter_id: int) -> List[Dict[str, Any]]:
    """An A/B test group per variant when a newsletter has two or more; the winner once it was sent."""
    parent = newsletter(ws, newsletter_id)
    if len(parent["content_ids"]) < 2:
        return []
    return [
        {
            "id": index,
            "name": chr(65 + index),
            "label": f"test {index + 1}",
            "winner": parent["sent_at"] is not None and index == newsletter_id % len(parent["content_ids"]),
            "content_ids": [content_id],
        }
        for index, content_id in enumerate(parent["content_ids"])
    ]


@route("GET", "newsletters/{newsletter_id}/contents", scope="newsletters")
def list_newsletter_contents(ws: Workspace, request: Request):
    return {"contents": newsletter_contents(ws, require_newsletter(ws, request))}


@route("GET", "newsletters/{newsletter_id}/test_groups", scope="newsletters")
def list_newsletter_test_groups(ws: Workspace, request: Request):
    return {"test_groups": newsletter_test_groups(ws, require_newsletter(ws, request))}
