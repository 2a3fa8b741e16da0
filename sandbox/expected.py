"""What the connector should emit for each stream: the sandbox's own truth, for exact comparisons.

`EXPECTED[stream](workspace, config)` returns the records a full-refresh read must produce, after
the connector's documented transforms (carried parent ids, ids as integers).
"""

from typing import Any, Callable, Dict, List, Mapping

from sandbox import expected_breadth
from sandbox.resources import activities, campaigns, customers, messages, metrics, newsletters, segments, workspaces
from sandbox.workspace import Workspace

Records = List[Dict[str, Any]]


def _integer_ids(record: Dict[str, Any], fields) -> Dict[str, Any]:
    for name in fields:
        if isinstance(record.get(name), str) and record[name].isdigit():
            record[name] = int(record[name])
    return record


def expected_campaign_actions(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        _integer_ids(action, ("id", "campaign_id", "parent_action_id", "from_id", "reply_to_id"))
        for campaign_id in campaigns.campaign_ids(ws)
        for action in campaigns.campaign_actions(ws, campaign_id)
    ]


def expected_segment_members(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        {**ws.person_ids(index), "segment_id": segment_id}
        for segment_id in segments.segment_ids(ws)
        for index in ws.segment_member_indexes(segment_id)
    ]


def expected_campaigns(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [campaigns.campaign(ws, campaign_id) for campaign_id in campaigns.campaign_ids(ws)]


def expected_segments(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [segments.segment(ws, segment_id) for segment_id in segments.segment_ids(ws)]


def expected_newsletters(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return newsletters.newsletters(ws)


def expected_workspaces(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return workspaces.list_workspaces(ws, None)["workspaces"]


EXPECTED: Dict[str, Callable[[Workspace, Mapping[str, Any]], Records]] = {
    "campaigns": expected_campaigns,
    "campaign_actions": expected_campaign_actions,
    "segments": expected_segments,
    "segment_members": expected_segment_members,
    "newsletters": expected_newsletters,
    "workspaces": expected_workspaces,
    **expected_breadth.EXPECTED,
    **messages.EXPECTED,
    **activities.EXPECTED,
    **customers.EXPECTED,
    **metrics.EXPECTED,
}
