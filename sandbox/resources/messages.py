"""Messages (deliveries): `knobs.messages` spread over `knobs.message_history_days` before the
default clock, continuing as the clock moves; metrics are recorded over the days after creation."""

import base64
from typing import Any, Dict, Optional, Tuple

from sandbox.api import ApiError, Request, decode_cursor, encode_cursor, listed, page_limit, route
from sandbox.resources.timeline import Selection, Timeline, newest_first_page
from sandbox.workspace import DAY, DEFAULT_NOW, TOPICS, Workspace

SIX_MONTHS = 182 * DAY
HISTORY_START = 1325376000  # 2012-01-01: where a read without start_date begins
# Channel of message i is CHANNEL_CYCLE[i % 10].
CHANNEL_CYCLE = ("email", "push", "email", "twilio", "email", "webhook", "email", "slack", "in_app", "email")
CHANNELS = ("email", "webhook", "twilio", "slack", "push", "in_app")  # the current reference's `type` values
CHANNEL_ALIASES = {"urban_airship": "push"}
ENGAGEMENT = ("opened", "clicked", "converted")  # each happens for 40% of the messages that got that far


def timeline(ws: Workspace) -> Timeline:
    span = ws.knobs.message_history_days * DAY
    return Timeline(origin=DEFAULT_NOW - span, span=span, count=ws.knobs.messages)


def selection(channel: Optional[str]) -> Selection:
    return Selection.where(len(CHANNEL_CYCLE), lambda r: channel is None or CHANNEL_CYCLE[r] == channel)


def delivery_id(index: int) -> str:
    return base64.urlsafe_b64encode(b"cio:dlv:" + index.to_bytes(7, "big")).decode()


def metrics(ws: Workspace, index: int, created: int, channel: str) -> Dict[str, int]:
    """The metrics recorded by now: each stage happens (or not) some time after the previous one,
    opens and clicks up to two weeks after creation, so a lookback re-read sees them change."""
    if index % 41 == 40:
        return {"failed": created + 20} if created + 20 <= ws.now else {}
    stages = [("sent", 30 + index % 300)]
    if channel in ("email", "push", "twilio"):
        stages.append(("bounced", 60) if index % 37 == 36 else ("delivered", 60 + index % 900))
    if channel != "webhook" and index % 37 != 36:
        stages += [
            ("opened", int(ws.fraction("open", index) * 10 * DAY)),
            ("clicked", int(ws.fraction("click", index) * 4 * DAY)),
        ]
        stages.append(("converted", DAY + index % DAY))
    recorded: Dict[str, int] = {}
    moment = created
    for name, delay in stages:
        moment += delay
        never = name in ENGAGEMENT and ws.fraction(name, index) > 0.6
        if never or moment > ws.now:
            break
        recorded[name] = moment
    return recorded


def message(ws: Workspace, index: int) -> Dict[str, Any]:
    created = timeline(ws).time(index)
    channel = CHANNEL_CYCLE[index % len(CHANNEL_CYCLE)]
    ids = ws.person_ids(index * 7919 % ws.knobs.people)
    from_newsletter = index % 3 == 0
    campaign_id = None if from_newsletter else 1 + index % ws.knobs.campaigns
    newsletter_id = 1 + index % ws.knobs.newsletters if from_newsletter else None
    recorded = metrics(ws, index, created, channel)
    failed = "failed" in recorded
    live = ws.live.live_message_fields
    if live and index % 59 == 58:  # a deleted person's delivery keeps only their cio_id
        ids = {"email": None, "id": None, "cio_id": f"{0x4000000 + index % 50:x}"}
    if live and "delivered" in recorded and index % 5 == 0:
        recorded["secondary:delivered"] = recorded["delivered"] + 30
    record = {
        "id": delivery_id(index),
        "deduplicate_id": f"{delivery_id(index)}:{max(recorded.values(), default=created)}",
        "message_template_id": index % 97,
        "customer_id": ids["id"],
        "customer_identifiers": ids,
        "recipient": ids["email"] if channel == "email" else f"+4740{index % 1000000:06d}",
        "subject": f"{TOPICS[index % len(TOPICS)].title()} news" if channel == "email" else None,
        "metrics": recorded,
        "created": created,
        "failure_message": "Mailbox unavailable" if failed else None,
        "campaign_id": campaign_id,
        "action_id": campaign_id * 1000 + index % 5 if campaign_id else None,
        "parent_action_id": None,
        "newsletter_id": newsletter_id,
        "content_id": newsletter_id * 10 if newsletter_id else None,
        "broadcast_id": None,
        "trigger_event_id": f"evt{index}" if campaign_id and index % 4 == 1 else None,
        "type": channel,
        "forgotten": index % 53 == 52,
    }
    if live:
        record.update(msg_template_id=record["message_template_id"], transactional_message_id=None)
    return record


def requested_range(ws: Workspace, request: Request) -> Tuple[int, int]:
    """The API's 6-month rule: missing ends default to now / 6 months before the end, and a
    longer range is silently clipped to the 6 months before its end."""
    start_ts, end_ts = request.int_arg("start_ts"), request.int_arg("end_ts")
    end = ws.now if end_ts is None else end_ts
    start = end - SIX_MONTHS if start_ts is None else max(start_ts, end - SIX_MONTHS)
    return start, min(end, ws.now)


def requested_channel(request: Request) -> Optional[str]:
    channel = request.arg("type")
    if channel is not None and channel not in CHANNELS:
        raise ApiError(400, f"type must be one of {', '.join(CHANNELS)}")
    return channel


@route("GET", "messages", scope="messages", listing=("messages",))
def list_messages(ws: Workspace, request: Request):
    limit = page_limit(request, 50, 1000)
    start, end = requested_range(ws, request)
    lo, hi = timeline(ws).between(start, end)
    upper = decode_cursor("messages", request.arg("start")) or None
    page, next_upper = newest_first_page(selection(requested_channel(request)), lo, hi, upper, limit)
    return {
        "messages": listed(ws, [message(ws, index) for index in page]),
        "next": encode_cursor("messages", next_upper) if next_upper else "",
    }
