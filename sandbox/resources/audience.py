"""Audience resources besides people and segments: objects, subscription topics, ESP suppressions, collections."""

from typing import Any, Dict, List, Mapping

from sandbox.api import ApiError, Request, decode_cursor, encode_cursor, page_limit, route
from sandbox.workspace import DAY, TOPICS, Workspace

OBJECT_TYPES = (
    {
        "id": "1",
        "name": "Companies",
        "singular_name": "Company",
        "slug": "companies",
        "singular_slug": "company",
        "enabled": True,
        "icon": "building",
    },
    {
        "id": "2",
        "name": "Concerts",
        "singular_name": "Concert",
        "slug": "concerts",
        "singular_slug": "concert",
        "enabled": True,
        "icon": "calendar",
    },
    {
        "id": "3",
        "name": "Legacy accounts",
        "singular_name": "Legacy account",
        "slug": "legacy-accounts",
        "singular_slug": "legacy-account",
        "enabled": False,
        "icon": "archive",
    },
)
SUPPRESSION_REASONS = {
    "bounces": "550 5.1.1 The email account that you tried to reach does not exist",
    "blocks": "554 5.7.1 Message rejected by the recipient's policy",
    "spam_reports": "Recipient marked the message as spam",
    "invalid_emails": "Address is not a valid email",
}
SUPPRESSION_TYPES = tuple(SUPPRESSION_REASONS)


# -- objects ---------------------------------------------------------------------------------
def object_count(ws: Workspace, type_id: str) -> int:
    """Type 1 holds `knobs.objects`, type 2 a third as many, the disabled type 3 none."""
    return {"1": ws.knobs.objects, "2": ws.knobs.objects // 3}.get(type_id, 0)


def custom_object(ws: Workspace, type_id: str, index: int) -> Dict[str, Any]:
    """An object as the attributes endpoint returns it; every seventh lacks the `plan` attribute."""
    singular = OBJECT_TYPES[int(type_id) - 1]["singular_slug"]
    created = ws.now - int(ws.fraction("object", (type_id, index)) * 500) * DAY
    attributes = {
        "name": f"{singular.title()} {index}",
        "created_at": str(created),
        "region": ("us", "eu", "apac")[index % 3],
    }
    if index % 7:
        attributes["plan"] = ("free", "team", "enterprise")[index % 3]
    return {
        "attributes": attributes,
        "timestamps": {name: created + (DAY if name == "plan" else 0) for name in attributes},
        "identifiers": {"object_id": f"{singular}-{index}", "cio_object_id": f"ob{int(type_id):02x}{index:04x}"},
        "object_type_id": type_id,
    }


def objects_of_type(ws: Workspace, type_id: str) -> List[Dict[str, Any]]:
    return [custom_object(ws, type_id, index) for index in range(object_count(ws, type_id))]


def matches(condition: Mapping[str, Any], item: Mapping[str, Any], type_id: str) -> bool:
    """The object filter grammar: and / or / not / object_attribute (eq, exists)."""
    if "and" in condition:
        return all(matches(part, item, type_id) for part in condition["and"])
    if "or" in condition:
        return any(matches(part, item, type_id) for part in condition["or"])
    if "not" in condition:
        return not matches(condition["not"], item, type_id)
    attribute = condition.get("object_attribute")
    if (
        not isinstance(attribute, Mapping)
        or str(attribute.get("type_id")) != type_id
        or attribute.get("operator") not in ("eq", "exists")
    ):
        raise ApiError(400, "object_attribute needs field, operator (eq|exists) and the type_id being searched")
    values = {**item["identifiers"], **item["attributes"]}
    if attribute["operator"] == "exists":
        return attribute.get("field") in values
    return values.get(attribute.get("field")) == str(attribute.get("value"))


RELATIONSHIP_ROLES = ("admin", "member", "viewer")


def relationships(ws: Workspace, type_id: str, index: int) -> List[Dict[str, Any]]:
    """The people related to object `index`: 0 to 4 of them, spread over the workspace's people."""
    count = (index * 7 + int(type_id)) % 5
    people = sorted({(index * 37 + n * 101) % ws.knobs.people for n in range(count)})
    related = []
    for person in people:
        since = ws.now - int(ws.fraction("relationship", (type_id, index, person)) * 300) * DAY
        related.append(
            {
                "identifiers": ws.person_ids(person),
                "object_type_id": type_id,
                "object_type_disabled": False,
                "attributes": {"role": RELATIONSHIP_ROLES[(index + person) % 3], "since": str(since)},
                "timestamps": {"role": since, "since": since},
            }
        )
    return related


def find_object(ws: Workspace, request: Request) -> int:
    """The index of the object the path names, by `id_type` (object_id by default); 404 when none."""
    type_id, wanted = request.params["object_type_id"], request.params["object_id"]
    id_field = request.arg("id_type", "object_id")
    if id_field not in ("object_id", "cio_object_id"):
        raise ApiError(400, "id_type must be object_id or cio_object_id")
    for index, item in enumerate(objects_of_type(ws, type_id)):
        if item["identifiers"][id_field] == wanted:
            return index
    raise ApiError(404, "object not found")


@route("GET", "object_types", scope="objects")
def list_object_types(ws: Workspace, request: Request):
    return {"types": [dict(kind) for kind in OBJECT_TYPES]}


@route("POST", "objects", scope="objects", listing=("identifiers", "ids"))
def search_objects(ws: Workspace, request: Request):
    """Duplicates, as the docs warn: every eleventh object is listed twice, and pages after the first
    start with the previous page's last object."""
    body = request.json()
    type_id = body.get("object_type_id")
    if not isinstance(type_id, str) or not isinstance(body.get("filter"), Mapping):
        raise ApiError(400, "object_type_id (a string) and filter are required")
    found = []
    for index, item in enumerate(objects_of_type(ws, type_id)):
        if matches(body["filter"], item, type_id):
            found.extend([item["identifiers"]] * (2 if index % 11 == 10 else 1))
    limit = page_limit(request, 50, 1000)
    start = decode_cursor("objects", request.arg("start"))
    chunk = found[max(start - 1, 0) : start + limit]
    end = start + limit
    return {
        "identifiers": chunk,
        "ids": [ident["object_id"] for ident in chunk],
        "next": encode_cursor("objects", end) if end < len(found) else "",
    }


@route("GET", "objects/{object_type_id}/{object_id}/attributes", scope="objects")
def object_attributes(ws: Workspace, request: Request):
    type_id = request.params["object_type_id"]
    return {"object": custom_object(ws, type_id, find_object(ws, request))}


@route("GET", "objects/{object_type_id}/{object_id}/relationships", scope="objects", listing=("cio_relationships",))
def object_relationships(ws: Workspace, request: Request):
    """Cursor pages of the people related to one object, `next` "" after the last. The reference
    documents no page size: two by default here, so that paging is exercised, and 1000 at most (the
    connector follows `next` whatever size a page has)."""
    type_id = request.params["object_type_id"]
    related = relationships(ws, type_id, find_object(ws, request))
    limit = page_limit(request, 2, 1000)
    start = decode_cursor("relationships", request.arg("start"))
    end = start + limit
    return {
        "cio_relationships": related[start:end],
        "next": encode_cursor("relationships", end) if end < len(related) else "",
    }


# -- subscription topics and collections -----------------------------------------------------
def subscription_topics(ws: Workspace) -> List[Dict[str, Any]]:
    return [
        {
            "id": topic_id,
            "name": f"{TOPICS[topic_id].title()} emails",
            "description": f"News about {TOPICS[topic_id]}",
            "subscribed_by_default": topic_id % 2 == 1,
            "identifier": f"topic_{topic_id}",
        }
        for topic_id in range(1, 5)
    ]


def collections(ws: Workspace) -> List[Dict[str, Any]]:
    shapes = (
        ("upcoming_events", ["eventDate", "eventName", "venue"], 12),
        ("store_locations", ["city", "address", "hours"], 48),
        ("price_list", ["sku", "price"], 230),
    )
    records = []
    for index, (name, schema, rows) in enumerate(shapes, start=1):
        created = ws.now - int(ws.fraction("collection", index) * 400) * DAY
        records.append(
            {
                "id": index,
                "name": name,
                "bytes": rows * 64,
                "rows": rows,
                "schema": schema,
                "created_at": created,
                "updated_at": min(created + index * 9 * DAY, ws.now),
            }
        )
    return records


@route("GET", "subscription_topics", scope="subscription_topics")
def list_subscription_topics(ws: Workspace, request: Request):
    return {"topics": subscription_topics(ws)}


@route("GET", "collections", scope="collections")
def list_collections(ws: Workspace, request: Request):
    return {"collections": collections(ws)}


# -- ESP suppressions ------------------------------------------------------------------------
def suppression_count(ws: Workspace, suppression_type: str) -> int:
    """Bounces fill more than one page of 1000; spam reports are empty."""
    divisor = {"bounces": 1, "blocks": 30, "spam_reports": 0, "invalid_emails": 100}[suppression_type]
    return ws.knobs.suppressions // divisor if divisor else 0


def suppressions(ws: Workspace, suppression_type: str) -> List[Dict[str, Any]]:
    return [
        {
            "created": ws.now - int(ws.fraction("suppression", (suppression_type, index)) * 900) * DAY,
            "email": f"{suppression_type.rstrip('s')}{index}@example.net",
            "reason": SUPPRESSION_REASONS[suppression_type],
            "status": "550" if suppression_type in ("bounces", "blocks") else "",
        }
        for index in range(suppression_count(ws, suppression_type))
    ]


@route("GET", "esp/suppression/{suppression_type}", scope="esp_suppressions")
def list_suppressions(ws: Workspace, request: Request):
    """Offset paging. Live, an empty list (and a page past the end) is `{"suppressions": null}` without
    `category`; the reference answers `[]` with the category."""
    suppression_type = request.params["suppression_type"]
    if suppression_type not in SUPPRESSION_TYPES:
        raise ApiError(400, f"suppression_type must be one of {', '.join(SUPPRESSION_TYPES)}")
    limit = page_limit(request, 100, 1000)
    offset = request.int_arg("offset", 0)
    items = suppressions(ws, suppression_type)
    page = items[offset : offset + limit]
    if not page and ws.live.null_empty_lists:
        return {"suppressions": None}
    return {"category": suppression_type, "suppressions": page}
