"""What the connector must emit for `customers`, from the sandbox's own people."""

import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from sandbox.resources.customers import EVERYONE, Filter, customer, matching_people
from sandbox.workspace import Workspace


def customers_options(config: Mapping[str, Any]) -> Tuple[Optional[Filter], Tuple[str, ...], str]:
    """(filter, attribute names, method) from a connector config, read the way its spec describes."""
    options = config.get("customers") or {}
    text = (options.get("filter") or "").strip()
    names = tuple(dict.fromkeys(name.strip() for name in (options.get("attributes") or "").split(",") if name.strip()))
    return (json.loads(text) if text else None), names, options.get("method") or "search"


def everyone_or(audience: Optional[Filter]) -> Filter:
    return audience or EVERYONE


def expected_record(ws: Workspace, index: int, names: Tuple[str, ...], method: str) -> Dict[str, Any]:
    person = customer(ws, index)
    attrs = person["attributes"]
    record: Dict[str, Any] = {
        "_ab_cdc_updated_at": ws.now,  # a full read stamps everyone with when it began, by the API's clock
        **ws.person_ids(index),
        "attributes": {name: attrs[name] for name in names if name in attrs} if names else attrs,
    }
    if method == "search":  # the export file carries identifiers and attributes only
        record.update(unsubscribed=person["unsubscribed"], devices=person["devices"], timestamps=person["timestamps"])
    return record


def expected_customers(ws: Workspace, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    audience, names, method = customers_options(config)
    return [expected_record(ws, index, names, method) for index, _ in matching_people(ws, everyone_or(audience))]


EXPECTED: Dict[str, Callable[[Workspace, Mapping[str, Any]], List[Dict[str, Any]]]] = {"customers": expected_customers}
