"""People: search, batch and single attributes, the filter language, and the expected records.

People are the workspace's (sandbox/workspace.py): generated ones pure functions of their index
under an overlay of the changes made since, so a million people cost no memory and the CSV export
(sandbox/resources/exports.py) can stream them as fast as it can format rows.
"""

import json
import re
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple

from sandbox.api import ApiError, Request, decode_cursor, encode_cursor, listed, page_limit, route
from sandbox.workspace import Workspace

BATCH_CAP = 100
SEARCH_DEFAULT, SEARCH_CAP = 50, 1000
OPERATORS = ("eq", "exists")
EVERYONE = {"attribute": {"field": "cio_id", "operator": "exists"}}

Filter = Mapping[str, Any]


# -- people ------------------------------------------------------------------------------------
def customer(ws: Workspace, index: int) -> Dict[str, Any]:
    """The `customer` object of the attributes endpoints."""
    attrs = ws.person_attributes(index)
    return {
        "id": attrs.get("id"),
        "identifiers": ws.person_ids(index),
        "attributes": attrs,
        "timestamps": ws.person_timestamps(index),
        "unsubscribed": attrs["unsubscribed"] == "true",
        "devices": ws.person_devices(index),
    }


def index_by_id(ws: Workspace, person_id: str) -> Optional[int]:
    if not person_id.isdigit():
        return None
    index = int(person_id) - 100000
    return index if ws.is_live(index) and ws.person_ids(index)["id"] == person_id else None


def index_by_email(ws: Workspace, email: str) -> Optional[int]:
    found = re.fullmatch(r"person(\d+)@example\.com", email)
    index = int(found.group(1)) if found else -1
    return index if ws.is_live(index) and ws.person_ids(index)["email"] == email else None


# -- the filter language -------------------------------------------------------------------------
def check_filter(node: Any, field: str) -> None:
    """Reject what Customer.io rejects, with a 400 naming the body field."""
    if not isinstance(node, dict) or len(node) != 1:
        raise ApiError(400, f"{field}: each condition needs exactly one of and, or, not, segment, attribute")
    ((key, value),) = node.items()
    if key in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise ApiError(400, f"{field}: {key} needs a non-empty list")
        for child in value:
            check_filter(child, field)
    elif key == "not":
        check_filter(value, field)
    elif key == "segment":
        if not isinstance(value, dict) or not isinstance(value.get("id"), int):
            raise ApiError(400, f"{field}: segment needs an integer id")
    elif key == "attribute":
        if not isinstance(value, dict) or not value.get("field") or value.get("operator") not in OPERATORS:
            raise ApiError(400, f"{field}: attribute needs a field and an operator eq or exists")
    else:
        raise ApiError(400, f"{field}: unknown condition {key}")


def matcher(ws: Workspace, node: Filter) -> Callable[[int, Mapping[str, str]], bool]:
    """Compile a checked filter into a predicate on (index, attributes)."""
    ((key, value),) = node.items()
    if key in ("and", "or"):
        children = [matcher(ws, child) for child in value]
        combine = all if key == "and" else any
        return lambda index, attrs: combine(child(index, attrs) for child in children)
    if key == "not":
        child = matcher(ws, value)
        return lambda index, attrs: not child(index, attrs)
    if key == "segment":
        segment_id = value["id"]
        return lambda index, attrs: ws.in_segment(index, segment_id)
    name = value["field"]
    if value["operator"] == "exists":
        return lambda index, attrs: name in attrs
    wanted = value.get("value")
    wanted = wanted if isinstance(wanted, str) else json.dumps(wanted)  # true → "true": values are strings
    return lambda index, attrs: attrs.get(name) == wanted


def matching_people(ws: Workspace, audience: Filter, start: int = 0) -> Iterator[Tuple[int, Dict[str, str]]]:
    """(index, attributes) of the live people the filter selects, from index `start` on."""
    matches = matcher(ws, audience)
    for index in ws.live_person_indexes(start):
        attrs = ws.person_attributes(index)
        if matches(index, attrs):
            yield index, attrs


# -- endpoints -----------------------------------------------------------------------------------
@route("POST", "customers", scope="customers", listing=("identifiers", "ids"))
def search_customers(ws: Workspace, request: Request):
    body = request.json()
    if "filter" not in body:
        raise ApiError(400, "filter is required")
    check_filter(body["filter"], "filter")
    limit = page_limit(request, SEARCH_DEFAULT, SEARCH_CAP)
    position = decode_cursor("customers", request.arg("start"))
    identifiers = []
    for index, _ in matching_people(ws, body["filter"], position):
        identifiers.append(ws.person_ids(index))
        position = index + 1
        if len(identifiers) == limit:
            break
    else:
        position = ws.people_count
    return {
        "identifiers": listed(ws, identifiers),
        "ids": listed(ws, [ident["id"] or "" for ident in identifiers]),
        "next": encode_cursor("customers", position) if position < ws.people_count else "",
    }


def finder(ws: Workspace, id_type: str) -> Callable[[str], Optional[int]]:
    """How `id_type` names a person; the workspace identifies people by id and email (no phone)."""
    if id_type == "cio_id":
        return ws.person_index
    if id_type == "id":
        return lambda person_id: index_by_id(ws, person_id)
    if id_type == "email":
        return lambda email: index_by_email(ws, email)
    raise ApiError(400, "id_type must be id, email or cio_id (phone is not an identifier in this workspace)")


@route("POST", "customers/attributes", scope="customers")
def batch_attributes(ws: Workspace, request: Request):
    """As the current reference says: `id_type` (id when omitted) names the kind of every value in `ids`.
    Live, each person comes unwrapped; the reference wraps each in `{"customer": ...}`."""
    find = finder(ws, request.arg("id_type", "id"))
    ids = request.json().get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "ids must be a non-empty list of strings")
    if len(ids) > BATCH_CAP:
        raise ApiError(400, f"ids can hold at most {BATCH_CAP} entries")
    indexes = [find(person_id) for person_id in ids]
    # Unknown ids (deleted people's too) are left out without a word, as the real API does.
    people = [customer(ws, index) for index in indexes if index is not None]
    return {"customers": people if ws.live.unwrapped_batch_attributes else [{"customer": one} for one in people]}


@route("GET", "customers/{customer_id}/attributes", scope="customers")
def person_attributes(ws: Workspace, request: Request):
    index = finder(ws, request.arg("id_type", "id"))(request.params["customer_id"])
    if index is None:
        raise ApiError(404, "customer not found")
    return {"customer": customer(ws, index)}
