"""State kept per request series: one series per message channel or activity type.

A series' cursor only moves after the series has read a piece completely (a window, or the
whole type), so a restart never skips records. The state uses the CDK's per-partition shape:

    {"states": [{"partition": {"type": "email"}, "cursor": {"created": 1790000000}}]}

A series without a type filter has the partition {"type": null}.
"""

from typing import Any, Dict, Mapping, MutableMapping, Optional

Series = Optional[str]


def saved_cursors(stream_state: Optional[Mapping[str, Any]], cursor_field: str) -> Dict[Series, int]:
    """The cursor of each series in a state; entries of another shape are ignored."""
    cursors: Dict[Series, int] = {}
    for entry in (stream_state or {}).get("states") or ():
        if not isinstance(entry, Mapping):
            continue
        partition, cursor = entry.get("partition"), entry.get("cursor")
        if isinstance(partition, Mapping) and isinstance(cursor, Mapping) and isinstance(cursor.get(cursor_field), int):
            cursors[partition.get("type")] = cursor[cursor_field]
    return cursors


class SeriesStateMixin:
    """`state` as one cursor per series; leaves call `advance` when a piece of a series is complete."""

    cursor_field: str

    def __init__(self, *args: Any, **kwargs: Any):
        self._series_cursors: Dict[Series, int] = {}
        super().__init__(*args, **kwargs)

    @property
    def state(self) -> MutableMapping[str, Any]:
        if not self._series_cursors:
            return {}
        return {
            "states": [
                {"partition": {"type": series}, "cursor": {self.cursor_field: value}}
                for series, value in self._series_cursors.items()
            ]
        }

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._series_cursors = saved_cursors(value, self.cursor_field)

    def saved_cursor(self, stream_state: Mapping[str, Any], series: Series) -> Optional[int]:
        return saved_cursors(stream_state, self.cursor_field).get(series)

    def advance(self, series: Series, value: Optional[int]) -> None:
        """Move a series' cursor forward (never back: a lookback re-read does not undo progress)."""
        if value is None:
            return
        current = self._series_cursors.get(series)
        if current is None or value > current:
            self._series_cursors[series] = value
