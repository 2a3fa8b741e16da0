"""Activities: `knobs.activities` over the 30 days before the default clock, continuing as the clock
moves; the API keeps 30 days. Types cycle through TYPE_CYCLE, each with its own `data` shape;
every seventh round of the cycle belongs to deleted people (listed only with deleted=true).

Live (`Live.backdated_activities`), about 1 in 11 activities is processed some time after its
`timestamp` (backdated events, anonymous activity merged later): until then it is not listed,
though the list stays ordered by timestamp. Live (`Live.opened_as_epoch`), `data.opened` is the open
time with client details; the reference says a boolean.

People changes (Workspace.create_person and the rest) are logged when they are made, never
backdated, and listed among the generated activities by order key (sandbox/change_log.py), so a
page is a merge of lazy sources, each read only as far as the page needs. A person the workspace
deleted takes their activities along, logged and generated (activity i is person i*31 % people's):
they leave the default listing and are listed with deleted=true."""

import heapq
from bisect import bisect_left, bisect_right
from itertools import islice
from math import gcd
from operator import attrgetter, itemgetter
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from sandbox.api import Request, decode_cursor, encode_cursor, page_limit, route
from sandbox.change_log import generated_index, generated_key, key_timestamp
from sandbox.resources.timeline import Selection, Timeline
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
PERSON_STRIDE = 31  # generated activity i is person i * PERSON_STRIDE % people's
# Whose activities a listing holds: people not deleted (the default), everyone, or deleted people only.
LIVE, EVERYONE, DELETED = "live", "everyone", "deleted"
Listed = Tuple[int, Dict[str, Any]]  # (order key, activity)


def timeline(ws: Workspace) -> Timeline:
    return Timeline(origin=DEFAULT_NOW - RETENTION, span=RETENTION, count=ws.knobs.activities)


def of_deleted_person(index: int) -> bool:
    return (index // len(TYPE_CYCLE)) % DELETED_ROUND == DELETED_ROUND - 1


def of_type(index: int, activity_type: Optional[str]) -> bool:
    return activity_type is None or TYPE_CYCLE[index % len(TYPE_CYCLE)] == activity_type


def selection(activity_type: Optional[str], scope: str) -> Selection:
    """The generated activities of a type (None: all) whose round the scope keeps; people the workspace
    deleted are left to `in_scope`."""
    return Selection.where(
        PERIOD,
        lambda r: (
            of_type(r, activity_type)
            and (of_deleted_person(r) if scope == DELETED else scope == EVERYONE or not of_deleted_person(r))
        ),
    )


def person_of(ws: Workspace, index: int) -> Optional[int]:
    """The workspace person generated activity `index` belongs to; None in a deleted round, whose people
    were deleted before the workspace's were generated."""
    return None if of_deleted_person(index) else index * PERSON_STRIDE % ws.knobs.people


def identifiers(ws: Workspace, index: int) -> Dict[str, Optional[str]]:
    person = person_of(ws, index)
    if person is None:
        gone = index % 50
        return {"email": f"gone{gone}@example.com", "id": str(900000 + gone), "cio_id": f"{0x4000000 + gone:x}"}
    return ws.person_ids(person)


def listing_scope(ws: Workspace, deleted: bool) -> str:
    if not deleted:
        return LIVE
    return DELETED if ws.knobs.activities_deleted == "only" else EVERYONE


def in_scope(ws: Workspace, person: Optional[int], scope: str) -> bool:
    if scope == EVERYONE:
        return True
    deleted = person is None or ws.is_deleted(person)
    return deleted == (scope == DELETED)


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


def visible_range(ws: Workspace, since: Optional[int] = None) -> Tuple[int, int]:
    """The generated indexes the API keeps now (at or after `since`)."""
    return timeline(ws).between(retention_floor(ws, since), ws.now)


def retention_floor(ws: Workspace, since: Optional[int] = None) -> int:
    return max(ws.now - RETENTION, since or 0)


def processed_at(ws: Workspace, index: int) -> int:
    """When activity `index` is listed from: its timestamp, or later for a backdated one (live)."""
    timestamp = timeline(ws).time(index)
    if not ws.live.backdated_activities or index % 11 != 5:
        return timestamp
    return timestamp + int(ws.fraction("backdate", index) * ws.knobs.activity_backdate_max_seconds)


def listed_now(ws: Workspace, index: int) -> bool:
    return processed_at(ws, index) <= ws.now


# -- listing: generated and logged activities, merged by order key ---------------------------------
def listing(
    ws: Workspace,
    activity_type: Optional[str],
    scope: str,
    after: Optional[int] = None,
    newest_first: bool = True,
    since: Optional[int] = None,
) -> Iterator[Listed]:
    """The activities listed now in listing order, lazily, from past the order key `after` (None: from the
    start) and at or after `since`."""
    floor = retention_floor(ws, since)
    lo, hi = past_cursor(ws, *visible_range(ws, since), after, newest_first)
    sources = [
        generated(ws, chosen_indexes(selection(activity_type, scope), lo, hi, newest_first), scope),
        logged_changes(ws, activity_type, scope, floor, after, newest_first),
    ]
    if scope == DELETED:
        sources.append(generated(ws, deleted_people_indexes(ws, activity_type, lo, hi, newest_first), scope))
    return heapq.merge(*sources, key=itemgetter(0), reverse=newest_first)


def past_cursor(ws: Workspace, lo: int, hi: int, after: Optional[int], newest_first: bool) -> Tuple[int, int]:
    """The generated indexes [lo, hi) narrowed to those past the order key `after` in listing order (their
    keys grow with the index)."""
    if after is None:
        return lo, hi
    index = generated_index(after)
    # A logged change's key lies between the generated activities of its second and those after it.
    below = timeline(ws).first_at_or_after(key_timestamp(after) + 1) if index is None else index
    above = below if index is None else index + 1
    return (lo, min(hi, below)) if newest_first else (max(lo, above), hi)


def chosen_indexes(chosen: Selection, lo: int, hi: int, newest_first: bool) -> Iterable[int]:
    if not chosen.residues:
        return ()
    ranks = range(chosen.rank(lo), chosen.rank(hi))
    return map(chosen.index, reversed(ranks) if newest_first else ranks)


def generated(ws: Workspace, indexes: Iterable[int], scope: str) -> Iterator[Listed]:
    """The generated activities among `indexes` that are processed and whose people the scope keeps."""
    moments = timeline(ws)
    for index in indexes:
        if listed_now(ws, index) and in_scope(ws, person_of(ws, index), scope):
            yield generated_key(moments.time(index), index), activity(ws, index)


def deleted_people_indexes(
    ws: Workspace, activity_type: Optional[str], lo: int, hi: int, newest_first: bool
) -> Iterator[int]:
    """The generated activities in [lo, hi) of the people the workspace deleted, in listing order: each
    person's are an arithmetic progression (see `activities_of`), merged."""
    if activity_type is not None and activity_type not in TYPE_CYCLE:
        return iter(())
    deleted = (person for person in sorted(ws.deleted_indexes()) if person < ws.knobs.people)
    progressions = [activities_of(ws, person, lo, hi) for person in deleted]
    merged = heapq.merge(*(reversed(p) if newest_first else p for p in progressions), reverse=newest_first)
    return (index for index in merged if not of_deleted_person(index) and of_type(index, activity_type))


def activities_of(ws: Workspace, person: int, lo: int, hi: int) -> range:
    """The indexes i in [lo, hi) with i * PERSON_STRIDE ≡ person (mod people): none unless the two numbers'
    common divisor divides `person`, else every `step`th from the modular inverse's solution."""
    people = ws.knobs.people
    common = gcd(PERSON_STRIDE, people)
    if person % common:
        return range(0)
    step = people // common
    first = person // common * pow(PERSON_STRIDE // common, -1, step) % step
    return range(lo + (first - lo) % step, hi, step)


def logged_changes(
    ws: Workspace, activity_type: Optional[str], scope: str, floor: int, after: Optional[int], newest_first: bool
) -> Iterator[Listed]:
    """The logged people changes timed at or after `floor`, past the order key `after`, of the scope's people."""
    entries = ws.change_log.entries(activity_type)
    key = attrgetter("key")
    end = len(entries)  # changes logged while this page is made come after it
    start = bisect_left(entries, generated_key(floor, 0), hi=end, key=key)
    if after is not None and newest_first:
        end = bisect_left(entries, after, lo=start, hi=end, key=key)
    elif after is not None:
        start = bisect_right(entries, after, lo=start, hi=end, key=key)
    positions = range(start, end)
    for position in reversed(positions) if newest_first else positions:
        entry = entries[position]
        if in_scope(ws, entry.person, scope):
            yield entry.key, entry.record


def activities_page(
    ws: Workspace, activity_type: Optional[str], scope: str, after: Optional[int], limit: int, newest_first: bool
) -> Tuple[List[Dict[str, Any]], Optional[int]]:
    """Up to `limit` activities past `after`, and the order key the next page goes on from (None: no
    activity is left). One more than a page is read to tell."""
    taken = list(islice(listing(ws, activity_type, scope, after, newest_first), limit + 1))
    page = taken[:limit]
    return [record for _, record in page], (page[-1][0] if len(taken) > limit else None)


@route("GET", "activities", scope="activities", listing=("activities",))
def list_activities(ws: Workspace, request: Request):
    limit = page_limit(request, 10, 100)
    scope = listing_scope(ws, request.bool_arg("deleted"))
    after = decode_cursor("activities", request.arg("start")) or None
    newest_first = ws.knobs.activities_order != "oldest_first"
    page, next_key = activities_page(ws, request.arg("type"), scope, after, limit, newest_first)
    return {"activities": page, "next": encode_cursor("activities", next_key) if next_key else ""}
