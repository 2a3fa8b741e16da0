"""What the connector must emit for `messages`, from the sandbox's own data."""

from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional

from sandbox.resources.messages import CHANNEL_ALIASES, HISTORY_START, message, selection, timeline
from sandbox.workspace import Workspace


def config_start_date(config: Mapping[str, Any]) -> Optional[int]:
    """A connector config's start_date in unix seconds, or None."""
    text = config.get("start_date")
    return int(datetime.fromisoformat(text).timestamp()) if text else None


def expected_messages(ws: Workspace, config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Every message of the configured channels created from start_date (or 2012) to now."""
    channels = [CHANNEL_ALIASES.get(c, c) for c in (config.get("messages") or {}).get("types") or ()] or [None]
    lo, hi = timeline(ws).between(max(config_start_date(config) or HISTORY_START, HISTORY_START), ws.now)
    return [message(ws, index) for channel in dict.fromkeys(channels) for index in selection(channel).indexes(lo, hi)]


EXPECTED: Dict[str, Callable[[Workspace, Mapping[str, Any]], List[Dict[str, Any]]]] = {"messages": expected_messages}
