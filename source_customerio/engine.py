"""What the connector hands the CDK's concurrent engine: its streams as partitions, and the queue between
the engine's workers and its main thread.

Both replace a CDK default only where it cost CPU on every record, measured (bench/RESULTS.md, CPU):
- The CDK's adapter partition (`StreamPartition`) copies each record, checks it against `typing.Mapping`
  and runs the no-op type transformer; our streams yield finished dicts, so `SlicePartition` wraps them
  as they are.
- The CDK's workers put every record on the queue on its own, and the main thread takes them one by
  one: two lock round trips and, whenever one side waits for the other, a thread wake-up per record.
  `RecordBatchQueue` carries each worker's records in batches; the main thread hands them out one by one.
  Order is kept where the engine relies on it: a worker's batch goes on the queue before anything else
  that worker puts (a partition's end, its state, an error), so those still follow the records they cover.
"""

import copy
import logging
import threading
from collections import deque
from queue import Queue
from typing import Any, Deque, Iterable, List, Mapping, Optional

from airbyte_cdk.models import AirbyteMessage, SyncMode
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, CursorField
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.streams.concurrent.helpers import get_cursor_field_from_stream, get_primary_key_from_stream
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.streams.concurrent.partitions.partition_generator import PartitionGenerator
from airbyte_cdk.sources.types import Record
from airbyte_cdk.utils.slice_hasher import SliceHasher

from source_customerio.sync_state import SyncCursor

RECORDS_PER_BATCH = 100
MAX_QUEUED_RECORDS = 10_000  # what the CDK's own queue holds; bounds memory


class SlicePartition(Partition):
    """One slice of a stream: the records its `read_records` yields, each as it is; anything else it
    yields (a log message with --debug) goes to the message repository."""

    def __init__(self, stream: Stream, stream_slice: Mapping[str, Any], message_repository: MessageRepository):
        self._stream = stream
        self._slice = stream_slice
        self._message_repository = message_repository
        self._hash = SliceHasher.hash(stream.name, stream_slice)

    def read(self) -> Iterable[Record]:
        name = self._stream.name
        for item in self._stream.read_records(SyncMode.full_refresh, stream_slice=copy.deepcopy(self._slice)):
            if isinstance(item, AirbyteMessage):
                self._message_repository.emit_message(item)
            else:
                yield Record(item, name, self._slice)  # type: ignore[arg-type]  # the engine reads it as a Mapping

    def to_slice(self) -> Optional[Mapping[str, Any]]:
        return self._slice

    def stream_name(self) -> str:
        return self._stream.name

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"SlicePartition({self._stream.name}, {self._slice})"


class SlicePartitions(PartitionGenerator):
    """A stream's slices as partitions, each registered with the stream's cursor as it is made."""

    def __init__(self, stream: Stream, message_repository: MessageRepository, cursor: Cursor):
        self._stream = stream
        self._message_repository = message_repository
        self._cursor = cursor

    def generate(self) -> Iterable[Partition]:
        slices = (stream_slice or {} for stream_slice in self._stream.stream_slices(sync_mode=SyncMode.full_refresh))
        registered = self._cursor.register(slices) if isinstance(self._cursor, SyncCursor) else slices
        for stream_slice in registered:
            yield SlicePartition(self._stream, stream_slice, self._message_repository)


def concurrent_stream(
    stream: Stream, cursor: Cursor, logger: logging.Logger, repository: MessageRepository
) -> DefaultStream:
    """`stream` for the engine: its slices as `SlicePartition`s, its state kept by `cursor`."""
    cursor_field = get_cursor_field_from_stream(stream)
    return DefaultStream(
        partition_generator=SlicePartitions(stream, repository, cursor),
        name=stream.name,
        json_schema=stream.get_json_schema(),
        primary_key=get_primary_key_from_stream(stream.primary_key),
        cursor_field=CursorField(cursor_field_key=cursor_field) if cursor_field else None,
        logger=logger,
        cursor=cursor,
    )


class RecordBatch(List[Record]):
    """Records one worker read, in its order."""


class RecordBatchQueue(Queue):  # type: ignore[type-arg]
    """A `Queue` for `ConcurrentSource`: workers' records travel in batches, everything else as it is."""

    def __init__(self, records_per_batch: int = RECORDS_PER_BATCH) -> None:
        super().__init__(maxsize=max(MAX_QUEUED_RECORDS // records_per_batch, 1))
        self._records_per_batch = records_per_batch
        self._collecting = threading.local()
        self._handing_out: Deque[Any] = deque()  # the main thread's current batch

    def put(self, item: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        batch = self._batch()
        if isinstance(item, Record):
            batch.append(item)
            if len(batch) >= self._records_per_batch:
                self._send(batch)
            return
        self.send_records()
        super().put(item, block, timeout)

    def send_records(self) -> None:
        """Put the calling worker's unsent records on the queue."""
        batch = self._batch()
        if batch:
            self._send(batch)

    def get(self, block: bool = True, timeout: Optional[float] = None) -> Any:
        if not self._handing_out:
            item = super().get(block, timeout)
            if not isinstance(item, RecordBatch):
                return item
            self._handing_out.extend(item)
        return self._handing_out.popleft()

    def empty(self) -> bool:
        return not self._handing_out and super().empty()

    def _batch(self) -> RecordBatch:
        batch: Optional[RecordBatch] = getattr(self._collecting, "batch", None)
        if batch is None:
            batch = self._collecting.batch = RecordBatch()
        return batch

    def _send(self, batch: RecordBatch) -> None:
        self._collecting.batch = RecordBatch()
        super().put(batch)
