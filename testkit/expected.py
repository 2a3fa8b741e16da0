"""What the connector should emit for each stream: the sandbox's own truth, for exact comparisons.

`EXPECTED[stream](workspace, config)` returns the records a full-refresh read must produce, after
the connector's documented transforms (carried parent ids), from the sandbox's own data: ids are
integers there, whatever form the API serves them in.
"""

from typing import Any, Callable, Dict, List, Mapping

from sandbox.resources import campaigns, newsletters, segments, workspaces
from sandbox.workspace import Workspace
from testkit import expected_activities, expected_breadth, expected_customers, expected_messages, expected_metrics

Records = List[Dict[str, Any]]


def expected_campaign_actions(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [action for campaign_id in campaigns.campaign_ids(ws) for action in campaigns.action_list(ws, campaign_id)]


def expected_segment_members(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        {**ws.person_ids(index), "segment_id": segment_id}
        for segment_id in segments.segment_ids(ws)
        for index in ws.segment_member_indexes(segment_id)
    ]


def expected_campaigns(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return campaigns.campaign_list(ws)


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
    **expected_messages.EXPECTED,
    **expected_activities.EXPECTED,
    **expected_customers.EXPECTED,
    **expected_metrics.EXPECTED,
}
