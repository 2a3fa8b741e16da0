"""Customer.io's audience filter language: parse the JSON text and check its grammar.

Grammar (App API): {"and": [f, ...]}, {"or": [f, ...]}, {"not": f}, {"segment": {"id": int}},
{"attribute": {"field": str, "operator": "eq" | "exists", "value": str}}.
"""

import json
from typing import Any, Mapping, Optional

OPERATORS = ("eq", "exists")


class FilterError(ValueError):
    """A filter that Customer.io would reject; the message quotes the offending part."""


def _quote(node: Any) -> str:
    text = json.dumps(node, separators=(",", ":"))
    return text if len(text) <= 120 else text[:117] + "..."


def _check(node: Any) -> None:
    if not isinstance(node, dict) or len(node) != 1:
        raise FilterError(
            f"each condition must be an object with exactly one of and, or, not, segment, attribute; got {_quote(node)}"
        )
    ((key, value),) = node.items()
    if key in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise FilterError(f'"{key}" needs a non-empty list of conditions; got {_quote(node)}')
        for child in value:
            _check(child)
    elif key == "not":
        _check(value)
    elif key == "segment":
        segment_id = value.get("id") if isinstance(value, dict) else None
        if isinstance(segment_id, bool) or not isinstance(segment_id, int):
            raise FilterError(f'"segment" needs {{"id": <integer segment id>}}; got {_quote(node)}')
    elif key == "attribute":
        if not isinstance(value, dict) or not isinstance(value.get("field"), str) or not value["field"]:
            raise FilterError(f'"attribute" needs a "field" name; got {_quote(node)}')
        operator = value.get("operator")
        if operator not in OPERATORS:
            raise FilterError(f"unknown operator {json.dumps(operator)} (use eq or exists) in {_quote(node)}")
        if operator == "eq" and "value" not in value:
            raise FilterError(f'operator "eq" needs a "value" in {_quote(node)}')
    else:
        raise FilterError(f'unknown condition "{key}" (use and, or, not, segment, attribute) in {_quote(node)}')


def parse_filter(text: Optional[str]) -> Optional[Mapping[str, Any]]:
    """Return the filter as a dict, or None for an empty text (everyone)."""
    if text is None or not text.strip():
        return None
    try:
        node = json.loads(text)
    except json.JSONDecodeError as error:
        raise FilterError(f"it is not valid JSON ({error.msg} at character {error.pos})") from None
    _check(node)
    return node
