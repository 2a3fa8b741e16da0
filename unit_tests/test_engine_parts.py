"""What the engine gets from us (source_customerio.engine): partitions that hand over a stream's records as
they are, and a queue on which records travel in batches, in order, while whatever a worker puts after its
records (a partition's end, a state, an error) still comes after them."""

import logging
import threading
from typing import Any, Iterable, List, Mapping

import pytest
from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, Level, Type
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.concurrent.cursor import FinalStateCursor
from airbyte_cdk.sources.types import Record
from airbyte_cdk.sources.utils.slice_logger import DebugSliceLogger

from source_customerio.engine import MAX_QUEUED_RECORDS, RecordBatchQueue, SlicePartition, concurrent_stream
from source_customerio.source import SourceCustomerio, engine_threads, start_order
from unit_tests.mock_server.config import ConfigBuilder

LOG = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.DEBUG, message="request"))


class Pages(Stream):
    """A stream of two slices whose records are plain dicts, with a log message among them (as with --debug)."""

    primary_key = ["id"]
    cursor_field = "updated"

    def __init__(self) -> None:
        self.emitted: List[Mapping[str, Any]] = []

    def get_json_schema(self) -> Mapping[str, Any]:
        return {"type": "object", "properties": {"id": {"type": "integer"}}}

    def stream_slices(self, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        return [{"page": 1}, {"page": 2}]

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable[Any]:
        stream_slice["page"] = "changed by the stream"  # must not change the partition's slice
        record = {"id": 1, "updated": 5}
        self.emitted.append(record)
        yield record
        yield LOG


def test_a_partition_hands_over_the_streams_records_as_they_are_and_other_messages_to_the_repository():
    stream, repository = Pages(), InMemoryMessageRepository()
    partition = SlicePartition(stream, {"page": 1}, repository)

    read = list(partition.read())

    assert [record.data for record in read] == [{"id": 1, "updated": 5}]
    assert read[0].data is stream.emitted[0]  # not copied
    assert read[0].stream_name == "pages" and read[0].associated_slice == {"page": 1}
    assert partition.to_slice() == {"page": 1} and partition.stream_name() == "pages"
    assert list(repository.consume_queue()) == [LOG]
    assert hash(partition) == hash(SlicePartition(stream, {"page": 1}, repository))


def test_the_engines_stream_keeps_the_streams_name_schema_keys_and_slices():
    stream, repository = Pages(), InMemoryMessageRepository()
    cursor = FinalStateCursor("pages", None, repository)
    engine_stream = concurrent_stream(stream, cursor, logging.getLogger("test"), repository)

    described = engine_stream.as_airbyte_stream()
    assert (described.name, described.source_defined_primary_key, described.default_cursor_field) == (
        "pages",
        [["id"]],
        ["updated"],
    )
    assert described.json_schema == stream.get_json_schema()
    assert [partition.to_slice() for partition in engine_stream.generate_partitions()] == [{"page": 1}, {"page": 2}]
    assert engine_stream.cursor is cursor


def records(thread: str, count: int) -> List[Record]:
    return [Record({"id": index, "thread": thread}, "stream") for index in range(count)]


def drain(queue: RecordBatchQueue) -> List[Any]:
    taken = []
    while not queue.empty():
        taken.append(queue.get())
    return taken


def test_given_records_then_a_batch_per_full_batch_and_the_rest_before_the_next_other_item():
    queue = RecordBatchQueue(records_per_batch=100)
    read = records("worker", 250)

    for record in read:
        queue.put(record)
    assert queue.qsize() == 2  # two full batches sent, 50 records still collected by the worker

    queue.put("partition complete")
    assert queue.qsize() == 4
    assert drain(queue) == [*read, "partition complete"]


def test_while_a_batch_is_handed_out_then_the_queue_is_not_empty():
    queue = RecordBatchQueue(records_per_batch=3)
    for record in records("worker", 3):
        queue.put(record)

    queue.get()

    assert queue.qsize() == 0
    assert not queue.empty()
    assert len(drain(queue)) == 2


def test_given_items_that_are_not_records_then_they_pass_as_they_are():
    queue = RecordBatchQueue()
    queue.put("partition")
    queue.put("state")

    assert drain(queue) == ["partition", "state"]


def test_the_queue_holds_as_many_records_as_the_cdks_queue():
    cdk_default = ConcurrentSource.create(
        2, 1, logging.getLogger("test"), DebugSliceLogger(), InMemoryMessageRepository()
    )
    queue = RecordBatchQueue(records_per_batch=100)

    assert queue.maxsize * 100 == MAX_QUEUED_RECORDS == cdk_default._queue.maxsize  # the CDK's default queue


def test_given_workers_in_parallel_then_every_record_once_and_each_workers_end_after_its_records():
    queue = RecordBatchQueue(records_per_batch=7)
    workers = [f"worker {number}" for number in range(4)]

    def work(name: str) -> None:
        for record in records(name, 1000):
            queue.put(record)
        queue.put(f"{name} done")

    threads = [threading.Thread(target=work, args=(name,)) for name in workers]
    for thread in threads:
        thread.start()
    taken = [queue.get() for _ in range(len(workers) * 1001)]
    for thread in threads:
        thread.join()

    assert queue.empty()
    for name in workers:
        own = [item["id"] for item in taken if isinstance(item, Record) and item["thread"] == name]
        assert own == list(range(1000))
        last_record = max(
            index for index, item in enumerate(taken) if isinstance(item, Record) and item["thread"] == name
        )
        assert taken.index(f"{name} done") > last_record


def test_the_engine_starts_the_chains_ready_at_once_then_the_chains_whose_slices_take_requests_then_the_rest():
    streams = SourceCustomerio().streams(ConfigBuilder().build())
    by_start = sorted(streams, key=start_order)
    names = [stream.name for stream in by_start]

    long_chains = {"activities_all", "newsletters", "messages", "customers"}
    assert set(names[:4]) == long_chains
    assert names.index("activities_all") < names.index("messages") and names.index("activities_all") < names.index(
        "customers"
    )
    assert names.index("newsletters") < min(names.index("messages"), names.index("customers"))


@pytest.mark.parametrize(
    "max_concurrent_requests, threads", [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (6, (6, 3)), (16, (16, 3))]
)
def test_the_engine_has_a_worker_per_concurrent_request_and_fewer_slice_makers(max_concurrent_requests, threads):
    assert engine_threads(max_concurrent_requests) == threads
