"""API-triggered broadcasts, their actions (one per message variant) and their triggers. Broadcasts and
their actions may be edited while they are read (`Workspace.editing`)."""

from typing import Any, Dict, List

from sandbox.api import ApiError, Request, action_as_served, cursor_page, existing_id, first_unread_id, route
from sandbox.workspace import DAY, TOPICS, Workspace

ACTION_TYPES = ("email", "push", "twilio", "webhook", "in_app")


def broadcast_ids(ws: Workspace) -> List[int]:
    return list(range(1, ws.knobs.broadcasts + 1))


def broadcast(ws: Workspace, broadcast_id: int) -> Dict[str, Any]:
    """Every fourth broadcast has `tags: "nil"`, as in the published example."""
    rng = ws.rng("broadcast", broadcast_id)
    created = ws.now - rng.randint(60, 700) * DAY
    updated = min(created + rng.randint(0, 60) * DAY, ws.now)
    running = broadcast_id % 3 != 0
    actions = [{"id": action["id"], "type": action["type"]} for action in broadcast_actions(ws, broadcast_id)]
    return {
        "id": broadcast_id,
        "deduplicate_id": f"{broadcast_id}:{updated}",
        "name": f"{TOPICS[broadcast_id % len(TOPICS)].title()} broadcast {broadcast_id}",
        "type": "triggered_broadcast",
        "created": created,
        "updated": updated,
        "active": running,
        "state": "running" if running else "draft",
        "actions": actions,
        "msg_template_ids": actions,
        "first_started": created + DAY if running else 0,
        "tags": "nil"
        if broadcast_id % 4 == 0
        else [TOPICS[(broadcast_id + k) % len(TOPICS)] for k in range(1 + broadcast_id % 2)],
        "created_by": f"user{broadcast_id % 5}@example.com",
    }


def broadcast_actions(ws: Workspace, broadcast_id: int) -> List[Dict[str, Any]]:
    """1 to 3 variants per broadcast (every fifth has 12, two pages), with integer ids (see
    `action_as_served`), as they were made (before any edit)."""
    actions = []
    for index in range(12 if broadcast_id % 5 == 4 else 1 + broadcast_id % 3):
        rng = ws.rng("broadcast_action", (broadcast_id, index))
        kind = ACTION_TYPES[(broadcast_id + index) % len(ACTION_TYPES)]
        created = ws.now - rng.randint(30, 500) * DAY
        updated = min(created + rng.randint(0, 40) * DAY, ws.now)
        action_id = 5000 + broadcast_id * 10 + index
        action: Dict[str, Any] = {
            "id": action_id,
            "broadcast_id": broadcast_id,
            "deduplicate_id": f"{action_id}:{updated}",
            "name": f"Variant {index + 1}",
            "layout": "<html>{{content}}</html>" if kind == "email" else None,
            "created": created,
            "updated": updated,
            "body": f"News for {{{{customer.first_name}}}}, variant {index + 1}",
            "type": kind,
            "sending_state": ("automatic", "draft", "off")[index % 3],
            "language": "",
            "from_id": 7 if kind == "email" else None,
            "reply_to_id": None,
            "recipient": "{{customer.email}}",
            "subject": f"Broadcast {broadcast_id}" if kind == "email" else None,
            "headers": "{}",
        }
        if kind == "webhook":
            action.update(url=f"https://hooks.example.com/broadcasts/{broadcast_id}", method="post")
        actions.append(action)
    return actions


def broadcast_triggers(ws: Workspace, broadcast_id: int) -> List[Dict[str, Any]]:
    """0 to 3 triggers per broadcast; the newest may not be processed yet."""
    count = broadcast_id % 4
    triggers = []
    for index in range(count):
        created = ws.now - (count - index) * 3 * DAY
        processed = None if index == count - 1 and broadcast_id % 2 else created + 60
        triggers.append(
            {
                "id": broadcast_id * 100 + index,
                "broadcast_id": broadcast_id,
                "created_at": created,
                "processed_at": processed,
            }
        )
    return triggers


def require_broadcast(ws: Workspace, request: Request) -> int:
    return existing_id(request, "broadcast_id", broadcast_ids(ws), "broadcast")


def broadcast_list(ws: Workspace) -> List[Dict[str, Any]]:
    """The broadcasts as they are now (edits included)."""
    return [ws.as_edited("broadcast", broadcast(ws, broadcast_id), "updated") for broadcast_id in broadcast_ids(ws)]


def action_list(ws: Workspace, broadcast_id: int) -> List[Dict[str, Any]]:
    """A broadcast's actions as they are now (edits included)."""
    return [ws.as_edited("broadcast_action", action, "updated") for action in broadcast_actions(ws, broadcast_id)]


@route("GET", "broadcasts", scope="broadcasts")
def list_broadcasts(ws: Workspace, request: Request):
    served = broadcast_list(ws)
    ws.edit_while_read("broadcast", served)
    return {"broadcasts": served}


@route("GET", "broadcasts/{broadcast_id}/actions", scope="broadcasts", listing=("actions",))
def list_broadcast_actions(ws: Workspace, request: Request):
    """10 actions a page with `next`, as campaign actions (the reference declares no paging)."""
    if request.arg("limit") is not None:
        raise ApiError(400, "limit is not a parameter of this endpoint")
    broadcast_id = require_broadcast(ws, request)
    actions = action_list(ws, broadcast_id)
    chunk, next_cursor = cursor_page(request, "broadcast_actions", actions, 10, 10)
    unread = first_unread_id(
        actions,
        chunk,
        next_cursor,
        (broadcast_actions(ws, later) for later in broadcast_ids(ws) if later > broadcast_id),
    )
    ws.edit_while_read("broadcast_action", chunk, unread=unread)
    return {"actions": [action_as_served(ws, action) for action in chunk], "next": next_cursor}


@route("GET", "broadcasts/{broadcast_id}/triggers", scope="broadcasts")
def list_broadcast_triggers(ws: Workspace, request: Request):
    return {"triggers": broadcast_triggers(ws, require_broadcast(ws, request))}
