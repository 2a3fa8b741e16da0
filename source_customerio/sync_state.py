"""One state model for every incremental stream, as a cursor of the CDK's concurrent engine.

A stream's state is one cursor (unix seconds) per series: a message channel, an activity type,
or the single series `None` of a client-side, windowed or metrics cursor. Saved shapes:

    {"created": 1790000000}                                                    # one series
    {"states": [{"partition": {"type": "email"}, "cursor": {"created": 1790000000}}]}  # per series

The engine reads a stream's slices in any order, so a series' cursor moves only when every slice
of the series up to one of its checkpoints is complete. A checkpoint is every slice where the
stream says so (message windows), else the series' last slice. The stream then names the new
cursor (`CustomerioStream.checkpoint`), so a restart never skips what was not read.

The engine hands the cursor a stream's slices to register as they are made (`register`); the stream
sees only a read-only view of its saved cursors. State messages leave by the message repository,
which puts them on the engine's record queue (the CDK's `ConcurrentMessageRepository`), behind the
records they cover, never ahead of them: a worker's unsent records go on the queue before its slice
counts as complete, so another worker closing the series' last slice cannot put the state ahead.
"""

import json
import threading
from collections import deque
from typing import (
    Any,
    Callable,
    Deque,
    Dict,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Optional,
    Protocol,
    Set,
    Tuple,
    TypeGuard,
)

from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record

from source_customerio.config import StateError

SeriesName = Optional[str]
Cursors = Dict[SeriesName, int]


def is_unix_seconds(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_state(stream_name: str, state: Any, cursor_field: str, per_series: bool) -> Cursors:
    """The saved cursor of each series; a state of another shape is a StateError naming the stream."""
    where = f"The saved state of stream `{stream_name}`"
    state = {} if state is None else state
    if not isinstance(state, Mapping):
        raise StateError(where, f"is {state!r}, not an object")
    if not per_series:
        cursor = state.get(cursor_field)
        if cursor is not None and not is_unix_seconds(cursor):
            raise StateError(where, f"has `{cursor_field}` {cursor!r}, which is not unix seconds")
        return {} if cursor is None else {None: cursor}
    entries = state.get("states", ())
    if not isinstance(entries, (list, tuple)) or set(state) - {"states"}:
        raise StateError(
            where,
            f'is not {{"states": [{{"partition": {{"type": ...}}, "cursor": {{"{cursor_field}": <unix seconds>}}}}]}}',
        )
    cursors: Cursors = {}
    for entry in entries:
        partition = entry.get("partition") if isinstance(entry, Mapping) else None
        cursor = entry.get("cursor") if isinstance(entry, Mapping) else None
        value = cursor.get(cursor_field) if isinstance(cursor, Mapping) else None
        if not isinstance(partition, Mapping) or not is_unix_seconds(value):
            raise StateError(where, f"has an entry {entry!r} without a `{cursor_field}` cursor in unix seconds")
        cursors[partition.get("type")] = value
    return cursors


def state_of(cursors: Cursors, cursor_field: str, per_series: bool) -> MutableMapping[str, Any]:
    """The saved shape of `cursors` (the inverse of `parse_state`)."""
    if not per_series:
        return {cursor_field: cursors[None]} if None in cursors else {}
    if not cursors:
        return {}
    return {
        "states": [
            {"partition": {"type": series}, "cursor": {cursor_field: value}} for series, value in cursors.items()
        ]
    }


def slice_key(stream_slice: Optional[Mapping[str, Any]]) -> str:
    return json.dumps(stream_slice or {}, sort_keys=True, default=str)


class SeriesProgress:
    """The slices of one series in the order they were made, and which are complete."""

    def __init__(self) -> None:
        self._pending: Deque[Tuple[str, Mapping[str, Any], bool]] = deque()  # key, slice, is a checkpoint
        self._complete: Set[str] = set()

    def add(self, stream_slice: Mapping[str, Any], is_checkpoint: bool) -> None:
        self._pending.append((slice_key(stream_slice), stream_slice, is_checkpoint))

    def complete(self, key: str) -> Optional[Mapping[str, Any]]:
        """Mark a slice complete; the newest checkpoint slice now preceded only by complete ones."""
        self._complete.add(key)
        reached = None
        while self._pending and self._pending[0][0] in self._complete:
            done_key, stream_slice, is_checkpoint = self._pending.popleft()
            self._complete.discard(done_key)
            if is_checkpoint:
                reached = stream_slice
        return reached


class CheckpointedStream(Protocol):
    """What the cursor asks of a stream (CustomerioStream answers it)."""

    @property
    def name(self) -> str: ...

    @property
    def cursor_field(self) -> Any: ...

    state_per_series: bool
    checkpoint_every_slice: bool
    checkpoint_from_records: bool

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName: ...

    def checkpoint(
        self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]
    ) -> Optional[int]: ...

    def checkpoint_of_empty_read(self) -> Optional[Tuple[SeriesName, int]]: ...


class SyncCursor(Cursor):
    """The concurrent cursor of an incremental stream read incrementally (see the module doc)."""

    def __init__(
        self,
        stream: CheckpointedStream,
        saved: Mapping[SeriesName, int],
        message_repository: MessageRepository,
        send_records: Callable[[], None],
    ):
        self._stream = stream
        self._cursor_field: str = stream.cursor_field
        self._per_series: bool = stream.state_per_series
        self._cursors: Cursors = dict(saved)
        self._send_records = send_records
        self._message_repository = message_repository
        self._progress: Dict[SeriesName, SeriesProgress] = {}
        self._newest_seen: Dict[SeriesName, int] = {}
        self._has_emitted = False
        self._lock = threading.Lock()
        self._state_manager = ConnectorStateManager()

    @property
    def state(self) -> MutableMapping[str, Any]:
        return state_of(self._cursors, self._cursor_field, self._per_series)

    def register(self, slices: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield `slices`, each after it is registered with its series and whether it is a checkpoint.
        A series' slices come one after another, so its last is the one followed by another series'
        slice, or by none: each slice is yielded once the next is known."""
        previous: Optional[Mapping[str, Any]] = None
        for stream_slice in slices:
            if previous is not None:
                yield self._add(previous, self._stream.series_of(previous) != self._stream.series_of(stream_slice))
            previous = stream_slice
        if previous is not None:
            yield self._add(previous, True)
        else:
            self._checkpoint_empty_read()

    def _checkpoint_empty_read(self) -> None:
        """A read with nothing to read still moves the cursor, where the stream says it may."""
        reached = self._stream.checkpoint_of_empty_read()
        if reached is None:
            return
        series, value = reached
        with self._lock:
            if value > self._cursors.get(series, value - 1):
                self._cursors[series] = value
            self._message_repository.emit_message(self._state_message())
            self._has_emitted = True

    def _add(self, stream_slice: Mapping[str, Any], last_of_series: bool) -> Mapping[str, Any]:
        with self._lock:
            series = self._stream.series_of(stream_slice)
            progress = self._progress.setdefault(series, SeriesProgress())
            progress.add(stream_slice, last_of_series or self._stream.checkpoint_every_slice)
        return stream_slice

    def observe(self, record: Record) -> None:
        if not self._stream.checkpoint_from_records:  # per record, on every worker: skip the lock when unused
            return
        value = record.data.get(self._cursor_field)
        if not is_unix_seconds(value):
            return
        series = self._stream.series_of(record.associated_slice or {})
        with self._lock:
            if value > self._newest_seen.get(series, value - 1):
                self._newest_seen[series] = value

    def close_partition(self, partition: Partition) -> None:
        stream_slice = partition.to_slice() or {}
        series = self._stream.series_of(stream_slice)
        self._send_records()  # this worker's records, before its slice counts as complete
        with self._lock:
            reached = self._progress[series].complete(slice_key(stream_slice))
            if reached is None:
                return
            value = self._stream.checkpoint(series, reached, self._newest_seen.get(series))
            if value is not None and value > self._cursors.get(series, value - 1):
                self._cursors[series] = value
            # Under the lock, so two slices closing at once cannot emit their states out of order.
            self._message_repository.emit_message(self._state_message())
            self._has_emitted = True

    def ensure_at_least_one_state_emitted(self) -> None:
        with self._lock:
            if not self._has_emitted:  # else the last state emitted is the current one
                self._message_repository.emit_message(self._state_message())
                self._has_emitted = True

    def _state_message(self) -> AirbyteMessage:
        self._state_manager.update_state_for_stream(self._stream.name, None, self.state)
        return self._state_manager.create_state_message(self._stream.name, None)

    def should_be_synced(self, record: Record) -> bool:
        return True
