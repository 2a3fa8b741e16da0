"""Transactional message templates and their contents (language variants). Both may be edited while
they are read (`Workspace.editing`)."""

from typing import Any, Dict, List

from sandbox.api import Request, existing_id, first_unread_id, route
from sandbox.workspace import DAY, Workspace

KINDS = ("Receipt", "Password reset", "Login link", "Invoice", "Shipping update", "Welcome")
LANGUAGES = ("", "fr", "de")


def transactional_ids(ws: Workspace) -> List[int]:
    return list(range(1, ws.knobs.transactional_messages + 1))


def transactional_message(ws: Workspace, message_id: int) -> Dict[str, Any]:
    rng = ws.rng("transactional", message_id)
    created = ws.now - rng.randint(30, 900) * DAY
    return {
        "id": message_id,
        "name": f"{KINDS[message_id % len(KINDS)]} {message_id}",
        "description": f"Sent by the app ({KINDS[message_id % len(KINDS)].lower()})",
        "send_to_unsubscribed": message_id % 2 == 1,
        "link_tracking": message_id % 3 != 0,
        "open_tracking": True,
        "hide_message_body": message_id % 4 == 0,
        "queue_drafts": False,
        "created_at": created,
        "updated_at": min(created + rng.randint(0, 90) * DAY, ws.now),
    }


def transactional_contents(ws: Workspace, message_id: int) -> List[Dict[str, Any]]:
    """One content per language: 1 to 3 per message; push messages carry no email fields."""
    kind = "push" if message_id % 5 == 0 else "email"
    contents = []
    for index, language in enumerate(LANGUAGES[: 1 + message_id % 3]):
        rng = ws.rng("transactional_content", (message_id, index))
        created = ws.now - rng.randint(20, 600) * DAY
        content: Dict[str, Any] = {
            "id": 9000 + message_id * 10 + index,
            "name": f"{KINDS[message_id % len(KINDS)]} {message_id}",
            "created": created,
            "updated": min(created + rng.randint(0, 30) * DAY, ws.now),
            "body": f"<p>{KINDS[message_id % len(KINDS)]} ({language or 'default'})</p>",
            "language": language,
            "type": kind,
            "recipient": "{{customer.email}}",
            "headers": "{}",
        }
        if kind == "email":
            content.update(
                {
                    "from": "Sandbox <hello@example.com>",
                    "from_id": 7,
                    "reply_to": None,
                    "reply_to_id": None,
                    "subject": f"Your {KINDS[message_id % len(KINDS)].lower()}",
                    "preheader_text": "",
                    "fake_bcc": False,
                }
            )
        contents.append(content)
    return contents


def transactional_list(ws: Workspace) -> List[Dict[str, Any]]:
    """The templates as they are now (edits included)."""
    return [
        ws.as_edited("transactional", transactional_message(ws, message_id), "updated_at")
        for message_id in transactional_ids(ws)
    ]


def content_list(ws: Workspace, message_id: int) -> List[Dict[str, Any]]:
    """A template's contents as they are now (edits included)."""
    return [
        ws.as_edited("transactional_content", content, "updated") for content in transactional_contents(ws, message_id)
    ]


@route("GET", "transactional", scope="transactional")
def list_transactional(ws: Workspace, request: Request):
    served = transactional_list(ws)
    ws.edit_while_read("transactional", served)
    return {"messages": served}


@route("GET", "transactional/{transactional_id}/contents", scope="transactional")
def list_transactional_contents(ws: Workspace, request: Request):
    message_id = existing_id(request, "transactional_id", transactional_ids(ws), "transactional message")
    served = content_list(ws, message_id)
    later_lists = (transactional_contents(ws, later) for later in transactional_ids(ws) if later > message_id)
    ws.edit_while_read("transactional_content", served, unread=first_unread_id(served, served, "", later_lists))
    return {"contents": served}
