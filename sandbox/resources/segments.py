"""Segments and segment membership."""

from itertools import islice
from typing import Any, Dict, List

from sandbox.api import Request, decode_cursor, encode_cursor, existing_id, listed, page_limit, route
from sandbox.resources import campaigns, newsletters
from sandbox.workspace import DAY, Workspace


def segment(ws: Workspace, segment_id: int) -> Dict[str, Any]:
    rng = ws.rng("segment", segment_id)
    created = ws.now - rng.randint(100, 800) * DAY
    updated = created + rng.randint(0, 90) * DAY
    rule = ws.segment_rule(segment_id)
    return {
        "id": segment_id,
        "deduplicate_id": f"{segment_id}:{updated}",
        "name": "Everyone" if rule["modulus"] == 1 else f"People in bucket {rule['rest']} of {rule['modulus']}",
        "description": f"Sandbox segment {segment_id}",
        "state": "finished" if segment_id % 5 else "build",
        "progress": None if segment_id % 5 else 40,
        "type": "dynamic" if segment_id % 2 else "manual",
        "tags": ["sandbox"] if segment_id % 3 == 0 else None,
        "created_at": created,
        "updated_at": updated,
    }


def segment_ids(ws: Workspace) -> List[int]:
    return list(range(1, ws.knobs.segments + 1))


@route("GET", "segments", scope="segments")
def list_segments(ws: Workspace, request: Request):
    return {"segments": [segment(ws, segment_id) for segment_id in segment_ids(ws)]}


@route("GET", "segments/{segment_id}/membership", scope="segments", listing=("identifiers", "ids"))
def segment_membership(ws: Workspace, request: Request):
    segment_id = existing_id(request, "segment_id", segment_ids(ws), "segment")
    limit = page_limit(request, 1000, 30000)
    # The cursor is the person index to go on from: people created or deleted meanwhile move no one.
    start = decode_cursor("members", request.arg("start"))
    chunk = list(islice(ws.segment_member_indexes(segment_id, start), limit + 1))
    identifiers = [ws.person_ids(index) for index in chunk[:limit]]
    return {
        "segment_id": segment_id,
        "ids": listed(ws, [ident["id"] or "" for ident in identifiers]),
        "identifiers": listed(ws, identifiers),
        "next": encode_cursor("members", chunk[limit]) if len(chunk) > limit else "",
    }


def segment_usage(ws: Workspace, segment_id: int) -> Dict[str, Any]:
    """What references a segment: campaigns triggered or filtered by it, newsletters sent or drafted to it."""
    every_campaign = [campaigns.campaign(ws, campaign_id) for campaign_id in campaigns.campaign_ids(ws)]
    using_campaigns = [
        campaign["id"]
        for campaign in every_campaign
        if segment_id in campaign.get("trigger_segment_ids", []) + campaign.get("filter_segment_ids", [])
    ]
    targeting = [letter for letter in newsletters.newsletters(ws) if segment_id in letter["recipient_segment_ids"]]
    return {
        "segment_id": segment_id,
        "used_by": {
            "campaigns": using_campaigns,
            "sent_newsletters": [letter["id"] for letter in targeting if letter["sent_at"] is not None],
            "draft_newsletters": [letter["id"] for letter in targeting if letter["sent_at"] is None],
        },
    }


@route("GET", "segments/{segment_id}/used_by", scope="segments")
def segment_used_by(ws: Workspace, request: Request):
    segment_id = existing_id(request, "segment_id", segment_ids(ws), "segment")
    return segment_usage(ws, segment_id)
