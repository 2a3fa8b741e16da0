"""What the connector must emit for the activities streams, from the sandbox's own data."""

from typing import Any, Callable, Dict, List, Mapping, Optional

from sandbox.resources.activities import EVERYONE, LIVE, listing
from sandbox.workspace import Workspace
from testkit.expected_messages import config_start_date


def expected_activities(ws: Workspace, config: Mapping[str, Any], activity_type: Optional[str]) -> List[Dict[str, Any]]:
    """What the API keeps of one type (None: all types) at or after start_date, oldest first: generated
    activities and logged people changes; deleted people's only with include_deleted."""
    options = config.get("activities") or {}
    scope = EVERYONE if options.get("include_deleted") else LIVE
    since = config_start_date(config)
    return [record for _, record in listing(ws, activity_type, scope, newest_first=False, since=since)]


def flattened(record: Mapping[str, Any]) -> Dict[str, Any]:
    """The connector's documented PARSED_DATA transform: data's nested keys joined with `_`."""

    def walk(value: Any, column: str) -> Dict[str, Any]:
        if isinstance(value, dict) and value:
            return {name: leaf for key, item in value.items() for name, leaf in walk(item, f"{column}_{key}").items()}
        return {column: value}

    columns = {key: value for key, value in record.items() if key != "data"}
    columns.update(walk(record["data"], "data") if record["data"] else {})
    return columns


def expected_streams(ws: Workspace, config: Mapping[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """Every activities stream of a config: `activities_all`, or one `activity_<type>` per type."""
    options = config.get("activities") or {}
    types = list(options.get("types") or [])
    if options.get("mode") == "PARSED_DATA":
        return {
            "activity_" + "".join(c if c.isalnum() or c == "_" else "_" for c in t.lower()): [
                flattened(r) for r in expected_activities(ws, config, t)
            ]
            for t in types
        }
    return {"activities_all": [r for t in types or [None] for r in expected_activities(ws, config, t)]}


EXPECTED: Dict[str, Callable[[Workspace, Mapping[str, Any]], List[Dict[str, Any]]]] = {
    "activities_all": lambda ws, config: expected_streams(ws, config).get("activities_all", []),
}
