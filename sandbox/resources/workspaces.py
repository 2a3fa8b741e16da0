"""Workspace information (also the connector's credential check)."""

from sandbox.api import Request, route
from sandbox.workspace import Workspace


@route("GET", "workspaces", scope="")
def list_workspaces(ws: Workspace, request: Request):
    return {
        "workspaces": [
            {
                "id": 130001,
                "name": "Sandbox workspace",
                "messages_sent": 0,
                "billable_messages_sent": 0,
                "people": ws.live_people_count(),
                "object_types": 0,
                "objects": 0,
            }
        ]
    }
