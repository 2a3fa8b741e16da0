"""State kept per request series: one series per message channel or activity type.

A series' cursor only moves after the series has read a piece completely (a window, or the
whole type), so a restart never skips records. The state uses the CDK's per-partition shape:

    {"states": [{"partition": {"type": "email"}, "cursor": {"created": 1790000000}}]}

A series without a type filter has the partition {"type": null}.
"""

from typing import Any, Dict, Mapping, MutableMapping, Optional

from source_customerio.config import StateError
from source_customerio.streams.base import MixinBase

SeriesName = Optional[str]


def saved_cursors(stream_state: Optional[Mapping[str, Any]], cursor_field: str) -> Dict[SeriesName, int]:
    """The cursor of each series in a state; a state of another shape raises ValueError."""
    stream_state = stream_state or {}
    entries = stream_state.get("states", ()) if isinstance(stream_state, Mapping) else None
    if not isinstance(entries, (list, tuple)) or set(stream_state) - {"states"}:
        raise ValueError(
            f'is not {{"states": [{{"partition": {{"type": ...}}, "cursor": {{"{cursor_field}": <unix seconds>}}}}]}}'
        )
    cursors: Dict[SeriesName, int] = {}
    for entry in entries:
        partition = entry.get("partition") if isinstance(entry, Mapping) else None
        cursor = entry.get("cursor") if isinstance(entry, Mapping) else None
        value = cursor.get(cursor_field) if isinstance(cursor, Mapping) else None
        if not isinstance(partition, Mapping) or isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"has an entry {entry!r} without a `{cursor_field}` cursor in unix seconds")
        cursors[partition.get("type")] = value
    return cursors


class SeriesStateMixin(MixinBase):
    """`state` as one cursor per series; leaves call `advance` when a piece of a series is complete."""

    cursor_field: str

    def __init__(self, *args: Any, **kwargs: Any):
        self._series_cursors: Dict[SeriesName, int] = {}
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
        try:
            self._series_cursors = saved_cursors(value, self.cursor_field)
        except ValueError as error:
            raise StateError(f"The saved state of stream `{self.name}`", str(error)) from None

    def saved_cursor(self, stream_state: Mapping[str, Any], series: SeriesName) -> Optional[int]:
        return saved_cursors(stream_state, self.cursor_field).get(series)

    def advance(self, series: SeriesName, value: Optional[int]) -> None:
        """Move a series' cursor forward (never back: a lookback re-read does not undo progress)."""
        if value is None:
            return
        current = self._series_cursors.get(series)
        if current is None or value > current:
            self._series_cursors[series] = value
