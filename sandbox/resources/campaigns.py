"""Campaigns and campaign actions. Both may be edited while they are read (`Workspace.editing`)."""

from typing import Any, Dict, List

from sandbox.api import ApiError, Request, action_as_served, cursor_page, existing_id, first_unread_id, route
from sandbox.workspace import DAY, TOPICS, Workspace

TRIGGERS = ("segment", "event", "date", "form", "relationship", "object", "webhook")
ACTION_TYPES = ("email", "push", "twilio", "webhook", "slack", "in_app")


def campaign(ws: Workspace, campaign_id: int) -> Dict[str, Any]:
    rng = ws.rng("campaign", campaign_id)
    created = ws.now - rng.randint(200, 900) * DAY
    updated = created + rng.randint(0, 190) * DAY
    trigger = TRIGGERS[campaign_id % len(TRIGGERS)]
    record = {
        "id": campaign_id,
        "deduplicate_id": f"{campaign_id}:{updated}",
        "name": f"{TOPICS[campaign_id % len(TOPICS)].title()} campaign {campaign_id}",
        "type": trigger,
        "created": created,
        "updated": updated,
        "active": campaign_id % 4 != 0,
        "state": ("running", "draft", "stopped")[campaign_id % 3],
        "actions": [{"type": action["type"], "id": action["id"]} for action in campaign_actions(ws, campaign_id)],
        "first_started": created + DAY,
        "tags": [TOPICS[(campaign_id + k) % len(TOPICS)] for k in range(campaign_id % 3)],
        "created_by": f"user{campaign_id % 5}@example.com",
    }
    if trigger == "segment":
        record.update(
            trigger_segment_ids=[1 + campaign_id % ws.knobs.segments],
            filter_segment_ids=[],
            msg_templates=[{"type": "email", "id": campaign_id * 10}],
        )
    elif trigger == "event":
        record["event_name"] = f"purchase_{campaign_id}"
    elif trigger == "date":
        record.update(
            frequency="once",
            date_attribute="signup_date",
            timezone="UTC",
            use_customer_timezone=False,
            start_hour=9,
            start_minutes=30,
        )
    elif trigger == "webhook":
        record["webhook_id"] = campaign_id * 3
    return record


def campaign_actions(ws: Workspace, campaign_id: int) -> List[Dict[str, Any]]:
    """Campaigns have 1 to 23 actions (so up to 3 pages of 10), with integer ids (see `action_as_served`),
    as they were made (before any edit)."""
    count = 1 + (campaign_id * 7) % 23
    base = campaign_id * 1000
    actions = []
    for index in range(count):
        rng = ws.rng("action", (campaign_id, index))
        kind = ACTION_TYPES[(campaign_id + index) % len(ACTION_TYPES)]
        created = ws.now - rng.randint(100, 600) * DAY
        action: Dict[str, Any] = {
            "id": base + index,
            "campaign_id": campaign_id,
            "parent_action_id": base + index - 1 if index else None,
            "deduplicate_id": f"{base + index}:{created}",
            "name": f"Step {index + 1}",
            "layout": "<html>{{content}}</html>" if kind == "email" else None,
            "created": created,
            "updated": created + rng.randint(0, 50) * DAY,
            "body": f"Hello {{{{customer.first_name}}}}, step {index + 1}",
            "language": "",
            "type": kind,
            "sending_state": ("automatic", "draft", "off")[index % 3],
            "from_id": 7 if kind == "email" else None,
            "reply_to_id": None,
            "subject": f"Step {index + 1} of {TOPICS[campaign_id % len(TOPICS)]}" if kind == "email" else None,
            "recipient": "{{customer.email}}",
            "headers": "{}",
        }
        if kind == "webhook":
            action.update(url=f"https://hooks.example.com/{campaign_id}/{index}", method="post")
        actions.append(action)
    return actions


def campaign_ids(ws: Workspace) -> List[int]:
    return list(range(1, ws.knobs.campaigns + 1))


def require_campaign(ws: Workspace, request: Request) -> int:
    return existing_id(request, "campaign_id", campaign_ids(ws), "campaign")


def campaign_list(ws: Workspace) -> List[Dict[str, Any]]:
    """The campaigns as they are now (edits included)."""
    return [ws.as_edited("campaign", campaign(ws, campaign_id), "updated") for campaign_id in campaign_ids(ws)]


def action_list(ws: Workspace, campaign_id: int) -> List[Dict[str, Any]]:
    """A campaign's actions as they are now (edits included)."""
    return [ws.as_edited("action", action, "updated") for action in campaign_actions(ws, campaign_id)]


@route("GET", "campaigns", scope="campaigns")
def list_campaigns(ws: Workspace, request: Request):
    served = campaign_list(ws)
    ws.edit_while_read("campaign", served)
    return {"campaigns": served}


@route("GET", "campaigns/{campaign_id}/actions", scope="campaigns", listing=("actions",))
def list_campaign_actions(ws: Workspace, request: Request):
    if request.arg("limit") is not None:
        raise ApiError(400, "limit is not a parameter of this endpoint")
    campaign_id = require_campaign(ws, request)
    actions = action_list(ws, campaign_id)
    chunk, next_cursor = cursor_page(request, "actions", actions, 10, 10)
    ws.edit_while_read(
        "action",
        chunk,
        unread=first_unread_id(
            actions,
            chunk,
            next_cursor,
            (campaign_actions(ws, later) for later in campaign_ids(ws) if later > campaign_id),
        ),
    )
    return {"actions": [action_as_served(ws, action) for action in chunk], "next": next_cursor}
