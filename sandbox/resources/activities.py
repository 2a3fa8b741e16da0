"""Activities: `knobs.activities` over the 30 days before the default clock, continuing as the clock
moves; the API keeps 30 days. Types cycle through TYPE_CYCLE, each with its own `data` shape;
every seventh round of the cycle belongs to deleted people (listed only with deleted=true).

Live (`Live.backdated_activities`), about 1 in 11 activities is processed some time after its
`timestamp` (backdated events, anonymous activity merged later): until then it is not listed,
though the list stays ordered by timestamp. Live (`Live.opened_as_epoch`), `data.opened` is the open
time with client details; the reference says a boolean."""

from typing import Any, Dict, List, Optional, Tuple

from sandbox.api import Request, decode_cursor, encode_cursor, page_limit, route
from sandbox.resources.timeline import Selection, Timeline, newest_first_page, oldest_first_page
from sandbox.workspace import DAY, DEFAULT_NOW, TOPICS, Workspace

RETENTION = 30 * DAY
OBJECT_TYPE_ID = 12
TYPE_CYCLE = (
    "event",
    "page",
    "attribute_change",
    "sent_email",
    "delivered_email",
    "opened_email",
    "clicked_email",
    "event",
    f"_o:{OBJECT_TYPE_ID}:create",
    f"_o:{OBJECT_TYPE_ID}:attribute_change",
    f"_r:{OBJECT_TYPE_ID}:attribute_change",
    "add_relationship",
    "sent_push",
    "opened_push",
    "event",
    "screen",
    "sent_twilio",
    "profile_create",
    "delete_relationship",
    "event",
)
DELETED_ROUND = 7  # rounds of the cycle; the last round of every DELETED_ROUND is deleted people's
PERIOD = len(TYPE_CYCLE) * DELETED_ROUND
ATTRIBUTES = ("plan", "first_name", "email")


def timeline(ws: Workspace) -> Timeline:
    return Timeline(origin=DEFAULT_NOW - RETENTION, span=RETENTION, count=ws.knobs.activities)


def of_deleted_person(index: int) -> bool:
    return (index // len(TYPE_CYCLE)) % DELETED_ROUND == DELETED_ROUND - 1


def selection(activity_type: Optional[str], include_deleted: bool, only_deleted: bool = False) -> Selection:
    return Selection.where(
        PERIOD,
        lambda r: (
            (activity_type is None or TYPE_CYCLE[r % len(TYPE_CYCLE)] == activity_type)
            and (of_deleted_person(r) if only_deleted else include_deleted or not of_deleted_person(r))
        ),
    )


def identifiers(ws: Workspace, index: int) -> Dict[str, Optional[str]]:
    if of_deleted_person(index):
        gone = index % 50
        return {"email": f"gone{gone}@example.com", "id": str(900000 + gone), "cio_id": f"{0x4000000 + gone:x}"}
    return ws.person_ids(index * 31 % ws.knobs.people)


def data(ws: Workspace, index: int, activity_type: str, timestamp: int, delivery: Optional[str]) -> Dict[str, Any]:
    """The type-specific payload: nested objects, arrays, nulls and empty objects included."""
    if activity_type == "event":
        return {
            "name": ("purchase", "signup", "viewed_pricing")[index % 3],
            "price": round(5 + ws.fraction("price", index) * 95, 2),
            "quantity": 1 + index % 4,
            "coupon": None if index % 2 else f"SAVE{index % 30}",
            "address": {
                "city": ("Oslo", "Lisbon", "Austin")[index % 3],
                "country": {"code": ("NO", "PT", "US")[index % 3]},
            },
            "items": [f"sku{index % 9}", f"sku{index % 7}"],
        }
    if activity_type in ("page", "screen"):
        return {
            "url": f"https://app.example.com/{TOPICS[index % len(TOPICS)]}",
            "referrer": None if index % 2 else "https://example.com/",
        }
    if activity_type == "attribute_change":
        name = ATTRIBUTES[index % len(ATTRIBUTES)]
        return {name: {"from": f"{name}-{index - 1}", "to": f"{name}-{index}"}}
    if activity_type.startswith("_o:") and activity_type.endswith(":create"):
        return {
            "object_id": f"acct{index % 40}",
            "attributes": {"name": f"Account {index % 40}", "plan": ("free", "pro")[index % 2]},
        }
    if activity_type.startswith(("_o:", "_r:")):
        return {
            "object_id": f"acct{index % 40}",
            "role" if activity_type.startswith("_r:") else "plan": {"from": "member", "to": "admin"},
        }
    if activity_type in ("add_relationship", "delete_relationship"):
        return {"object_type_id": OBJECT_TYPE_ID, "object_id": f"acct{index % 40}"}
    if activity_type == "clicked_email":
        return {"delivery_id": delivery, "href": f"https://example.com/l/{index % 11}", "link_id": index % 11}
    if delivery is not None and activity_type.startswith("opened") and ws.live.opened_as_epoch:
        return {
            "delivery_id": delivery,
            "opened": timestamp,
            "ip_address": f"203.0.113.{index % 250}",
            "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
        }
    if delivery is not None:
        return {
            "delivery_id": delivery,
            "opened": index % 3 == 0 if activity_type.startswith("opened") else None,
            "delivered": timestamp if activity_type.startswith("delivered") else None,
        }
    return {}


def activity(ws: Workspace, index: int) -> Dict[str, Any]:
    activity_type = TYPE_CYCLE[index % len(TYPE_CYCLE)]
    timestamp = timeline(ws).time(index)
    ids = identifiers(ws, index)
    channel = (
        activity_type.rsplit("_", 1)[-1]
        if activity_type.split("_")[0] in ("sent", "delivered", "opened", "clicked")
        else None
    )
    delivery = f"dlv{index:08d}" if channel else None
    return {
        "id": f"01{timestamp:012X}{index:012X}",
        "customer_id": ids["id"],
        "customer_identifiers": ids,
        "type": activity_type,
        "timestamp": timestamp,
        "delivery_id": delivery,
        "delivery_type": {"email": "email", "twilio": "phone", "push": ("ios", "android")[index % 2]}.get(channel),
        "data": data(ws, index, activity_type, timestamp, delivery),
    }


def visible_range(ws: Workspace, since: Optional[int] = None):
    return timeline(ws).between(max(ws.now - RETENTION, since or 0), ws.now)


def processed_at(ws: Workspace, index: int) -> int:
    """When activity `index` is listed from: its timestamp, or later for a backdated one (live)."""
    timestamp = timeline(ws).time(index)
    if not ws.live.backdated_activities or index % 11 != 5:
        return timestamp
    return timestamp + int(ws.fraction("backdate", index) * ws.knobs.activity_backdate_max_seconds)


def listed_now(ws: Workspace, index: int) -> bool:
    return processed_at(ws, index) <= ws.now


def newest_first_listed_page(
    ws: Workspace, chosen: Selection, lo: int, hi: int, upper: Optional[int], limit: int
) -> Tuple[List[int], Optional[int]]:
    """`newest_first_page` of the activities listed now: full pages, passing over those not processed yet
    (a backdated activity appears among older ones once processed, where a reader may have passed)."""
    page: List[int] = []
    while len(page) < limit:
        candidates, upper = newest_first_page(chosen, lo, hi, upper, limit - len(page))
        page += [index for index in candidates if listed_now(ws, index)]
        if upper is None:
            break
    return page, upper


@route("GET", "activities", scope="activities", listing=("activities",))
def list_activities(ws: Workspace, request: Request):
    limit = page_limit(request, 10, 100)
    lo, hi = visible_range(ws)
    deleted = request.bool_arg("deleted")
    chosen = selection(request.arg("type"), deleted, only_deleted=deleted and ws.knobs.activities_deleted == "only")
    bound = decode_cursor("activities", request.arg("start")) or None
    if ws.knobs.activities_order == "oldest_first":
        page, next_bound = oldest_first_page(chosen, lo, hi, bound, limit)
    else:
        page, next_bound = newest_first_listed_page(ws, chosen, lo, hi, bound, limit)
    return {
        "activities": [activity(ws, index) for index in page if listed_now(ws, index)],
        "next": encode_cursor("activities", next_bound) if next_bound else "",
    }
