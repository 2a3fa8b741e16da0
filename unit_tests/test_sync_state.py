"""The one state model (source_customerio.sync_state): saved shapes, checkpoints reached in any
order of slices, and state messages that never move back or run ahead of the slices read."""

import threading
from typing import Any, List, Mapping, Optional

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.message.concurrent_repository import ConcurrentMessageRepository
from airbyte_cdk.sources.types import Record
from airbyte_cdk.test.state_builder import StateBuilder

from source_customerio.config import StateError
from source_customerio.engine import RecordBatchQueue
from source_customerio.sync_state import SeriesName, SeriesProgress, SyncCursor, parse_state, state_of
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.harness import read_stream

SERIES_STATE = {
    "states": [
        {"partition": {"type": "email"}, "cursor": {"created": 10}},
        {"partition": {"type": None}, "cursor": {"created": 20}},
    ]
}


@pytest.mark.parametrize("state, cursors", [(None, {}), ({}, {}), ({"updated": 10}, {None: 10}), ({"other": "x"}, {})])
def test_given_a_one_cursor_state_then_its_cursor(state, cursors):
    assert parse_state("campaigns", state, "updated", per_series=False) == cursors


def test_given_a_series_state_then_a_cursor_per_series_and_the_same_state_back():
    cursors = parse_state("messages", SERIES_STATE, "created", per_series=True)

    assert cursors == {"email": 10, None: 20}
    assert state_of(cursors, "created", per_series=True) == SERIES_STATE
    assert parse_state("messages", None, "created", per_series=True) == {}


@pytest.mark.parametrize(
    "state, problem",
    [
        ({"updated": "abc"}, "has `updated` 'abc', which is not unix seconds"),
        ({"updated": True}, "has `updated` True, which is not unix seconds"),
        ({"updated": 1.5}, "has `updated` 1.5, which is not unix seconds"),
        ([1], "is [1], not an object"),
    ],
)
def test_given_a_one_cursor_state_of_another_shape_then_a_config_error_naming_the_stream(state, problem):
    with pytest.raises(StateError) as raised:
        parse_state("campaigns", state, "updated", per_series=False)

    assert raised.value.message.startswith(f"The saved state of stream `campaigns` {problem}. Clear the stream's data")


@pytest.mark.parametrize(
    "state",
    [
        pytest.param({"created": 10}, id="single_cursor_of_another_stream"),
        pytest.param({"states": {"email": 10}}, id="states_not_a_list"),
        pytest.param(
            {"states": [{"partition": {"type": "email"}, "cursor": {"created": "yesterday"}}]},
            id="cursor_not_unix_seconds",
        ),
        pytest.param({"states": [{"cursor": {"created": 10}}]}, id="no_partition"),
        pytest.param({"states": ["email"]}, id="entry_not_an_object"),
    ],
)
def test_given_a_series_state_of_another_shape_then_a_config_error_naming_the_stream(state):
    with pytest.raises(StateError) as raised:
        parse_state("messages", state, "created", per_series=True)

    assert raised.value.message.startswith("The saved state of stream `messages` ")


def test_given_messages_state_of_another_shape_when_read_then_config_error_naming_the_stream():
    state = StateBuilder().with_stream_state("messages", {"created": 10}).build()

    output = read_stream("messages", ConfigBuilder().build(), SyncMode.incremental, state, expecting_exception=True)

    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.config_error
    assert error.message.startswith("The saved state of stream `messages` is not {")
    assert output.records == []


def test_given_slices_completed_out_of_order_then_a_checkpoint_is_reached_only_behind_complete_ones():
    progress = SeriesProgress()
    slices = [{"n": 1}, {"n": 2}, {"n": 3}]
    for stream_slice in slices:
        progress.add(stream_slice, is_checkpoint=True)

    assert progress.complete('{"n": 2}') is None  # slice 1 is still being read
    assert progress.complete('{"n": 1}') == {"n": 2}  # 1 and 2 are complete: 2 is the newest
    assert progress.complete('{"n": 3}') == {"n": 3}


def test_given_only_the_last_slice_is_a_checkpoint_then_nothing_is_reached_before_every_slice_is_complete():
    progress = SeriesProgress()
    progress.add({"n": 1}, is_checkpoint=False)
    progress.add({"n": 2}, is_checkpoint=True)

    assert progress.complete('{"n": 2}') is None
    assert progress.complete('{"n": 1}') == {"n": 2}


class FakeStream:
    """A stream with two series (`type`), checkpointing at every slice or only at a series' last."""

    name = "fake"
    cursor_field = "updated"
    state_per_series = True
    checkpoint_from_records = True

    def __init__(self, checkpoint_every_slice: bool):
        self.checkpoint_every_slice = checkpoint_every_slice

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName:
        return stream_slice.get("type")

    def checkpoint(self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]):
        return stream_slice.get("end", newest_seen)

    empty_read_moves_to: Optional[int] = None

    def checkpoint_of_empty_read(self):
        return None if self.empty_read_moves_to is None else ("a", self.empty_read_moves_to)


class FakePartition:
    def __init__(self, stream_slice: Mapping[str, Any]):
        self._slice = dict(stream_slice)  # the engine hands the cursor a copy, never the registered object

    def to_slice(self) -> Mapping[str, Any]:
        return self._slice


class Emitted(InMemoryMessageRepository):
    """The state messages a cursor emits, in a list."""

    def __init__(self, emitted: List[Any]):
        super().__init__()
        self._emitted = emitted

    def emit_message(self, message) -> None:
        self._emitted.append(message)


def cursor_of(stream: FakeStream, saved: Any = None, send_records=lambda: None):
    emitted: List[Any] = []
    cursors = parse_state(stream.name, saved, stream.cursor_field, stream.state_per_series)
    cursor = SyncCursor(stream, cursors, Emitted(emitted), send_records)
    return cursor, emitted


def test_given_another_worker_closes_the_last_slice_then_the_state_follows_every_record_of_the_series():
    queue = RecordBatchQueue(records_per_batch=100)
    stream = FakeStream(checkpoint_every_slice=False)
    cursor = SyncCursor(stream, {}, ConcurrentMessageRepository(queue, InMemoryMessageRepository()), queue.send_records)
    first, last = list(cursor.register([{"type": "a", "end": 10}, {"type": "a", "end": 20}]))

    def read_and_close(stream_slice: Mapping[str, Any]) -> None:
        for n in range(3):  # fewer than a batch: they wait in this worker's batch
            queue.put(Record({"id": n}, "fake", stream_slice))
        cursor.close_partition(FakePartition(stream_slice))

    worker = threading.Thread(target=read_and_close, args=(first,))
    worker.start()
    worker.join()  # the first worker ends its slice before it sends its partition's end
    read_and_close(last)

    taken = []
    while not queue.empty():
        taken.append(queue.get())
    assert [type(item).__name__ for item in taken] == ["Record"] * 6 + ["AirbyteMessage"]


def cursors_in(emitted) -> List[Mapping[str, int]]:
    return [
        {entry["partition"]["type"]: entry["cursor"]["updated"] for entry in message.state.stream.stream_state.states}
        for message in emitted
    ]


def test_given_windows_closed_in_any_order_then_each_series_state_moves_forward_only():
    cursor, emitted = cursor_of(FakeStream(checkpoint_every_slice=True))
    slices = [{"type": "a", "end": 10}, {"type": "a", "end": 20}, {"type": "b", "end": 5}]
    assert list(cursor.register(slices)) == slices

    cursor.close_partition(FakePartition(slices[1]))  # a's second window before its first: no state yet
    cursor.close_partition(FakePartition(slices[2]))
    cursor.close_partition(FakePartition(slices[0]))

    assert cursors_in(emitted) == [{"b": 5}, {"b": 5, "a": 20}]


def test_given_per_series_checkpoints_then_the_newest_record_of_the_whole_series_is_saved():
    cursor, emitted = cursor_of(FakeStream(checkpoint_every_slice=False), saved=None)
    slices = [{"type": "a", "part": 1}, {"type": "a", "part": 2}]
    list(cursor.register(slices))
    cursor.observe(
        Record(data={"updated": 300}, stream_name="fake", associated_slice=FakePartition(slices[1]).to_slice())
    )
    cursor.observe(
        Record(data={"updated": 100}, stream_name="fake", associated_slice=FakePartition(slices[0]).to_slice())
    )

    cursor.close_partition(FakePartition(slices[1]))
    assert emitted == []  # part 1 of series a is not read yet
    cursor.close_partition(FakePartition(slices[0]))

    assert cursors_in(emitted) == [{"a": 300}]


def test_given_a_saved_cursor_newer_than_what_was_read_then_the_state_keeps_it():
    saved = {"states": [{"partition": {"type": "a"}, "cursor": {"updated": 500}}]}
    cursor, emitted = cursor_of(FakeStream(checkpoint_every_slice=False), saved)
    (only,) = cursor.register([{"type": "a"}])
    cursor.observe(Record(data={"updated": 100}, stream_name="fake", associated_slice=only))

    cursor.close_partition(FakePartition(only))

    assert cursors_in(emitted) == [{"a": 500}]


def test_given_a_stream_whose_checkpoint_ignores_records_then_records_are_not_tracked():
    stream = FakeStream(checkpoint_every_slice=True)
    stream.checkpoint_from_records = False
    cursor, emitted = cursor_of(stream)
    (only,) = cursor.register([{"type": "a"}])  # no window end: the checkpoint falls back on the newest record
    cursor.observe(Record(data={"updated": 100}, stream_name="fake", associated_slice=only))

    cursor.close_partition(FakePartition(only))

    assert cursor.state == {} and len(emitted) == 1  # nothing observed, so no cursor to save


def test_given_a_read_without_slices_then_the_cursor_moves_only_where_the_stream_says():
    still, still_emitted = cursor_of(FakeStream(checkpoint_every_slice=False), {"states": []})
    assert list(still.register([])) == [] and still_emitted == []

    stream = FakeStream(checkpoint_every_slice=False)
    stream.empty_read_moves_to = 700
    moved, emitted = cursor_of(stream, {"states": [{"partition": {"type": "a"}, "cursor": {"updated": 500}}]})
    assert list(moved.register([])) == []

    assert cursors_in(emitted) == [{"a": 700}]
