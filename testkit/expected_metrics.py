"""What the connector must emit for the metrics streams, from the sandbox's own series."""

from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from sandbox.resources import broadcasts, campaigns
from sandbox.resources.metrics import (
    CAMPAIGN_STEP_CAPS,
    EST,
    Parent,
    broadcast_action_parents,
    broadcast_parent,
    campaign_action_parents,
    campaign_parent,
    last_periods,
    link_clicks,
    links,
    newsletter_parent,
    period_starts,
    series,
)
from sandbox.workspace import Workspace

# The connector reads each parent from its creation (and from `start_date`), at most as far back as
# version 1's `steps` caps reach; version 2 reaches 10 years, beyond any sandbox parent.
CONNECTOR_STEP_CAPS = CAMPAIGN_STEP_CAPS
Records = List[Dict[str, Any]]


def _unit(config: Mapping[str, Any]) -> str:
    return (config.get("metrics") or {}).get("period") or "days"


def _start_date(config: Mapping[str, Any]) -> Optional[int]:
    text = config.get("start_date")
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) if text else None


def expected_starts(ws: Workspace, config: Mapping[str, Any], created: int, version: int) -> List[int]:
    unit = _unit(config)
    bounds = [created] + ([_start_date(config)] if _start_date(config) else [])
    if version == 1:
        bounds.append(last_periods(ws, CONNECTOR_STEP_CAPS[unit], unit, EST)[0])
    return period_starts(min(max(bounds), ws.now), ws.now, unit, EST)


def metric_rows(
    ws: Workspace, config: Mapping[str, Any], parent: Parent, id_fields: Sequence[str], version: int
) -> Records:
    starts = expected_starts(ws, config, parent[2], version)
    values = series(ws, parent, starts, version)
    ids = dict(zip(id_fields, parent[1], strict=True))
    return [
        {**ids, "period_start": start, "period": _unit(config), **{name: column[i] for name, column in values.items()}}
        for i, start in enumerate(starts)
    ]


def link_rows(ws: Workspace, config: Mapping[str, Any], parent: Parent, id_field: str) -> Records:
    kind, (parent_id,), created, _ = parent
    starts = expected_starts(ws, config, created, 1)
    return [
        {
            id_field: parent_id,
            "link_id": link["id"],
            "href": link["href"],
            "period_start": start,
            "period": _unit(config),
            "clicked": clicks,
        }
        for link in links(kind, parent_id)
        for start, clicks in zip(starts, link_clicks(ws, kind, link["id"], created, starts, False), strict=True)
    ]


def expected_campaign_metrics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        row
        for cid in campaigns.campaign_ids(ws)
        for row in metric_rows(ws, config, campaign_parent(ws, cid), ["campaign_id"], 2)
    ]


def expected_campaign_action_metrics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        row
        for cid in campaigns.campaign_ids(ws)
        for parent in campaign_action_parents(ws, cid)
        for row in metric_rows(ws, config, parent, ["campaign_id", "action_id"], 2)
    ]


def expected_campaign_link_metrics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        row
        for cid in campaigns.campaign_ids(ws)
        for row in link_rows(ws, config, campaign_parent(ws, cid), "campaign_id")
    ]


def expected_newsletter_metrics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    ids = range(1, ws.knobs.newsletters + 1)
    return [row for nid in ids for row in metric_rows(ws, config, newsletter_parent(ws, nid), ["newsletter_id"], 1)]


def expected_newsletter_link_metrics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    ids = range(1, ws.knobs.newsletters + 1)
    return [row for nid in ids for row in link_rows(ws, config, newsletter_parent(ws, nid), "newsletter_id")]


def expected_broadcast_metrics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        row
        for bid in broadcasts.broadcast_ids(ws)
        for row in metric_rows(ws, config, broadcast_parent(ws, bid), ["broadcast_id"], 1)
    ]


def expected_broadcast_action_metrics(ws: Workspace, config: Mapping[str, Any]) -> Records:
    return [
        row
        for bid in broadcasts.broadcast_ids(ws)
        for parent in broadcast_action_parents(ws, bid)
        for row in metric_rows(ws, config, parent, ["broadcast_id", "action_id"], 1)
    ]


# Exact while the connector's clock is not behind the workspace's (the host's is past DEFAULT_NOW):
# version 2 rows start at the request's `start`, version 1 arrays end at the response's `Date`.
EXPECTED: Dict[str, Callable[[Workspace, Mapping[str, Any]], Records]] = {
    "campaign_metrics": expected_campaign_metrics,
    "campaign_action_metrics": expected_campaign_action_metrics,
    "campaign_link_metrics": expected_campaign_link_metrics,
    "newsletter_metrics": expected_newsletter_metrics,
    "newsletter_link_metrics": expected_newsletter_link_metrics,
    "broadcast_metrics": expected_broadcast_metrics,
    "broadcast_action_metrics": expected_broadcast_action_metrics,
}
