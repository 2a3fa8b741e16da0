"""Newsletters (one-time sends)."""

from typing import Any, Dict, List

from sandbox.api import Request, cursor_page, route
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
    return [newsletter(ws, newsletter_id) for newsletter_id in range(1, ws.knobs.newsletters + 1)]


@route("GET", "newsletters", scope="newsletters")
def list_newsletters(ws: Workspace, request: Request):
    items = newsletters(ws)
    if request.arg("sort") == "desc":
        items.reverse()
    chunk, next_cursor = cursor_page(request, "newsletters", items, 50, 100)
    return {"newsletters": list(chunk), "next": next_cursor}
