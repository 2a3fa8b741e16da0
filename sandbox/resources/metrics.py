"""Metrics of campaigns, actions, newsletters, broadcasts and links: arrays per metric name, oldest first.

Version 2 (campaign and campaign action metrics): `version` is required; `res` picks the period,
`tz` the zone (default EST), `start`/`end` the window (at most 10 years). The sandbox also requires
`start` and `end`, so a client that omits them is caught. Version 1 (every other endpoint, and
campaign metrics with version=1): `period` and `steps`, answering the `steps` periods that end with
the current one (by the workspace's clock, which every response's `Date` reports); a `steps` above
the endpoint's cap, or below 2, gets a 400. Version 1 periods start at 00:00 EST (America/New_York),
weeks on Sunday, months on the 1st.

A value is a pure function of (seed, parent, metric, period start); periods before the parent was
created count zero and no period after the clock is answered.
"""

from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Sequence, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.api import ApiError, Request, int_path, route
from sandbox.resources import broadcasts, campaigns, newsletters
from sandbox.workspace import DAY, Workspace

EST = "America/New_York"
UNITS = ("hours", "days", "weeks", "months")
V2_RESOLUTIONS = {
    "hours": "hours",
    "hourly": "hours",
    "days": "days",
    "daily": "days",
    "weeks": "weeks",
    "weekly": "weeks",
    "months": "months",
    "monthly": "months",
}
V2_MAX_SPAN_SECONDS = 3653 * DAY  # "end: limited to 10 years from start"
CAMPAIGN_STEP_CAPS = {"hours": 24, "days": 45, "weeks": 12, "months": 120}
OTHER_STEP_CAPS = {"hours": 24, "days": 45, "weeks": 12, "months": 121}
# Name → share of `sent` (the series of version 1; version 2 adds human_/prefetch_ opens and clicks).
METRIC_SHARES = {
    "attempted": 1.05,
    "sent": 1.0,
    "delivered": 0.95,
    "opened": 0.45,
    "clicked": 0.12,
    "converted": 0.03,
    "bounced": 0.02,
    "created": 1.1,
    "deferred": 0.01,
    "drafted": 0.0,
    "failed": 0.01,
    "spammed": 0.002,
    "suppressed": 0.01,
    "undeliverable": 0.01,
    "topic_unsubscribed": 0.004,
    "unsubscribed": 0.006,
}
V2_SHARES = {"human_opened": 0.3, "prefetch_opened": 0.15, "human_clicked": 0.1, "prefetch_clicked": 0.02}
WEBHOOK_SHARES = {"2xx": 0.9, "3xx": 0.01, "4xx": 0.05, "5xx": 0.04}
LINKS_PER_PARENT = 3


# -- periods (written apart from the connector's, so the end-to-end tests compare two derivations) --
def period_start(timestamp: int, unit: str, zone: str) -> int:
    local = datetime.fromtimestamp(timestamp, ZoneInfo(zone))
    if unit == "hours":
        return int(local.replace(minute=0, second=0, microsecond=0).timestamp())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "weeks":
        midnight -= timedelta(days=(midnight.weekday() + 1) % 7)
    elif unit == "months":
        midnight = midnight.replace(day=1)
    return int(midnight.timestamp())


def next_period(start: int, unit: str, zone: str) -> int:
    if unit == "hours":
        return start + 3600
    local = datetime.fromtimestamp(start, ZoneInfo(zone))
    if unit == "months":
        following = local.replace(year=local.year + local.month // 12, month=local.month % 12 + 1)
    else:
        following = local + timedelta(days=7 if unit == "weeks" else 1)
    return int(following.timestamp())


def period_starts(first: int, last: int, unit: str, zone: str) -> List[int]:
    """Starts of the periods from the one containing `first` to the one containing `last`."""
    starts, start = [], period_start(first, unit, zone)
    while start <= last:
        starts.append(start)
        start = next_period(start, unit, zone)
    return starts


def last_periods(ws: Workspace, steps: int, unit: str, zone: str) -> List[int]:
    """The `steps` periods ending with the one containing the clock."""
    starts = [period_start(ws.now, unit, zone)]
    while len(starts) < steps:
        starts.insert(0, period_start(starts[0] - 1, unit, zone))
    return starts


# -- the parents and their series -----------------------------------------------------------------
Parent = Tuple[str, Tuple[int, ...], int, str]  # (kind, ids, created, channel)


def campaign_parent(ws: Workspace, campaign_id: int) -> Parent:
    return ("campaign", (campaign_id,), campaigns.campaign(ws, campaign_id)["created"], "mixed")


def campaign_action_parents(ws: Workspace, campaign_id: int) -> List[Parent]:
    return [
        ("campaign_action", (campaign_id, a["id"]), a["created"], a["type"])
        for a in campaigns.campaign_actions(ws, campaign_id)
    ]


def newsletter_parent(ws: Workspace, newsletter_id: int) -> Parent:
    record = newsletters.newsletter(ws, newsletter_id)
    return ("newsletter", (newsletter_id,), record["created"], record["type"])


def broadcast_parent(ws: Workspace, broadcast_id: int) -> Parent:
    return ("broadcast", (broadcast_id,), broadcasts.broadcast(ws, broadcast_id)["created"], "mixed")


def broadcast_action_parents(ws: Workspace, broadcast_id: int) -> List[Parent]:
    return [
        ("broadcast_action", (broadcast_id, a["id"]), a["created"], a["type"])
        for a in broadcasts.broadcast_actions(ws, broadcast_id)
    ]


def metric_shares(parent: Parent, version: int) -> Dict[str, float]:
    shares = dict(METRIC_SHARES)
    if version == 2:
        shares.update(V2_SHARES)
    if parent[3] == "webhook":
        shares.update(WEBHOOK_SHARES)
    return shares


def volume(ws: Workspace, key: Any, start: int, created: int) -> float:
    """Messages sent in a period: none before the parent existed, some periods quiet."""
    if start + DAY < created:
        return 0.0
    draw = ws.fraction("metrics", (key, start))
    return 0.0 if draw < 0.2 else draw * 400


def series(ws: Workspace, parent: Parent, starts: Sequence[int], version: int) -> Dict[str, List[int]]:
    kind, ids, created, _ = parent
    volumes = [volume(ws, (kind, ids), start, created) for start in starts]
    return {name: [int(sent * share) for sent in volumes] for name, share in metric_shares(parent, version).items()}


def links(kind: str, parent_id: int) -> List[Dict[str, Any]]:
    """0 to 2 tracked links per parent."""
    base = (70000 if kind == "campaign" else 90000) + parent_id * 10
    return [
        {"id": base + k, "href": f"https://example.com/{kind}/{parent_id}?link={k}"}
        for k in range(parent_id % LINKS_PER_PARENT)
    ]


def link_clicks(ws: Workspace, kind: str, link_id: int, created: int, starts: Sequence[int], unique: bool) -> List[int]:
    share = 0.05 if unique else 0.08
    return [int(volume(ws, (kind, "link", link_id), start, created) * share) for start in starts]


# -- the request's window --------------------------------------------------------------------------
def v1_starts(ws: Workspace, request: Request, caps: Mapping[str, int]) -> Tuple[str, List[int]]:
    unit = request.arg("period", "days")
    if unit not in UNITS:
        raise ApiError(400, f"period must be one of {', '.join(UNITS)}")
    steps = request.int_arg("steps", 12 if unit == "months" else caps[unit])
    if not 2 <= steps <= caps[unit]:
        raise ApiError(400, f"steps must be between 2 and {caps[unit]} for period {unit}")
    return unit, last_periods(ws, steps, unit, EST)


def v2_starts(ws: Workspace, request: Request) -> List[int]:
    unit = V2_RESOLUTIONS.get(request.arg("res", "days"))
    if unit is None:
        raise ApiError(400, f"res must be one of {', '.join(V2_RESOLUTIONS)}")
    zone = request.arg("tz", EST)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, f"unknown time zone {zone!r}") from None
    start, end = request.int_arg("start"), request.int_arg("end")
    if start is None or end is None:
        raise ApiError(400, "start and end are required with version 2")
    if end < start or end - start > V2_MAX_SPAN_SECONDS:
        raise ApiError(400, "end must be after start and at most 10 years later")
    return period_starts(start, min(end, ws.now), unit, zone)


def versioned_starts(ws: Workspace, request: Request) -> Tuple[int, List[int]]:
    version = request.arg("version")
    if version not in ("1", "2"):
        raise ApiError(400, "version is required: 1 or 2")
    if version == "2":
        return 2, v2_starts(ws, request)
    return 1, v1_starts(ws, request, CAMPAIGN_STEP_CAPS)[1]


def metric_body(values: Dict[str, List[int]]) -> Dict[str, Any]:
    return {"metric": {"series": values}}


def links_body(ws: Workspace, request: Request, kind: str, parent_id: int, created: int) -> Dict[str, Any]:
    starts = v1_starts(ws, request, OTHER_STEP_CAPS)[1]
    unique = request.bool_arg("unique")
    return {
        "links": [
            {
                "link": link,
                "metric": {"series": {"clicked": link_clicks(ws, kind, link["id"], created, starts, unique)}},
            }
            for link in links(kind, parent_id)
        ]
    }


def find(parents: List[Parent], request: Request) -> Parent:
    action_id = int_path(request, "action_id")
    for parent in parents:
        if parent[1][-1] == action_id:
            return parent
    raise ApiError(404, "action not found")


# -- the endpoints -------------------------------------------------------------------------------
@route("GET", "campaigns/{campaign_id}/metrics", scope="campaigns")
def get_campaign_metrics(ws: Workspace, request: Request):
    parent = campaign_parent(ws, campaigns.require_campaign(ws, request))
    version, starts = versioned_starts(ws, request)
    return metric_body(series(ws, parent, starts, version))


@route("GET", "campaigns/{campaign_id}/actions/{action_id}/metrics", scope="campaigns")
def get_campaign_action_metrics(ws: Workspace, request: Request):
    parent = find(campaign_action_parents(ws, campaigns.require_campaign(ws, request)), request)
    version, starts = versioned_starts(ws, request)
    return metric_body(series(ws, parent, starts, version))


@route("GET", "campaigns/{campaign_id}/metrics/links", scope="campaigns")
def get_campaign_link_metrics(ws: Workspace, request: Request):
    campaign_id = campaigns.require_campaign(ws, request)
    return links_body(ws, request, "campaign", campaign_id, campaign_parent(ws, campaign_id)[2])


@route("GET", "newsletters/{newsletter_id}/metrics", scope="newsletters")
def get_newsletter_metrics(ws: Workspace, request: Request):
    parent = newsletter_parent(ws, newsletters.require_newsletter(ws, request))
    return metric_body(series(ws, parent, v1_starts(ws, request, OTHER_STEP_CAPS)[1], 1))


@route("GET", "newsletters/{newsletter_id}/metrics/links", scope="newsletters")
def get_newsletter_link_metrics(ws: Workspace, request: Request):
    newsletter_id = newsletters.require_newsletter(ws, request)
    return links_body(ws, request, "newsletter", newsletter_id, newsletter_parent(ws, newsletter_id)[2])


@route("GET", "broadcasts/{broadcast_id}/metrics", scope="broadcasts")
def get_broadcast_metrics(ws: Workspace, request: Request):
    parent = broadcast_parent(ws, broadcasts.require_broadcast(ws, request))
    return metric_body(series(ws, parent, v1_starts(ws, request, OTHER_STEP_CAPS)[1], 1))


@route("GET", "broadcasts/{broadcast_id}/actions/{action_id}/metrics", scope="broadcasts")
def get_broadcast_action_metrics(ws: Workspace, request: Request):
    parent = find(broadcast_action_parents(ws, broadcasts.require_broadcast(ws, request)), request)
    return metric_body(series(ws, parent, v1_starts(ws, request, OTHER_STEP_CAPS)[1], 1))
