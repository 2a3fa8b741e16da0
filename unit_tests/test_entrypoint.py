"""The console script where it departs from the CDK's for speed: its entrypoint must say what the CDK's says,
and its process collects garbage less often."""

import copy
import json
import sys
from collections import defaultdict
from typing import List, Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    StreamDescriptor,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor

from source_customerio.entrypoint import CustomerioEntrypoint, run_entrypoint
from source_customerio.run import YOUNG_GENERATION_THRESHOLD
from unit_tests.fresh_interpreter import fresh_interpreter_output


def record(stream: str, namespace: Optional[str] = None) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(stream=stream, namespace=namespace, data={"id": 1}, emitted_at=0),
    )


def state(stream: str, namespace: Optional[str] = None) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=stream, namespace=namespace),
                stream_state=AirbyteStateBlob(updated=1),
            ),
        ),
    )


def counted(handle, messages: List[AirbyteMessage]):
    counts: defaultdict = defaultdict(float)
    handled = [handle(copy.deepcopy(message), counts) for message in messages]
    stats = [message.state.sourceStats.recordCount for message in handled if message.type == Type.STATE]
    return stats, dict(counts)


def test_records_and_states_are_counted_as_the_cdk_counts_them():
    messages = [
        record("messages"),
        record("messages"),
        record("people", namespace="workspace"),
        state("messages"),
        record("messages"),
        record("people", namespace="workspace"),
        state("people", namespace="workspace"),
        state("messages"),
        state("people"),  # no namespace: another stream, no records
    ]

    ours = counted(CustomerioEntrypoint.handle_record_counts, messages)

    assert ours == counted(AirbyteEntrypoint.handle_record_counts, messages)
    assert ours[0] == [2.0, 2.0, 1.0, 0.0]


def test_a_record_is_counted_without_building_a_descriptor_for_it(monkeypatch):
    built = []
    build = HashableStreamDescriptor.__init__

    def counting_build(self, *args, **kwargs):
        built.append(args or kwargs)
        build(self, *args, **kwargs)

    monkeypatch.setattr(HashableStreamDescriptor, "__init__", counting_build)
    counts: defaultdict = defaultdict(float)

    for _ in range(1000):
        CustomerioEntrypoint.handle_record_counts(record("segment_members_of_this_test"), counts)

    assert len(built) <= 1 and list(counts.values()) == [1000.0]


class Messages:
    """An entrypoint that reads three messages."""

    def parse_args(self, args):
        return args

    def run(self, parsed_args):
        yield from ('{"type":"LOG"}', '{"type":"RECORD"}', '{"type":"STATE"}')


class Console:
    """Standard output outside pytest's capture, so that the print buffer takes its place."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_each_message_is_written_to_the_print_buffer_in_one_line_and_one_write(monkeypatch):
    writes: List[str] = []
    monkeypatch.setattr(sys, "stdout", Console())
    monkeypatch.setattr(PRINT_BUFFER, "write", writes.append)

    run_entrypoint(Messages(), [])  # type: ignore[arg-type]

    assert writes == ['{"type":"LOG"}\n', '{"type":"RECORD"}\n', '{"type":"STATE"}\n']


# The console script's command in a fresh interpreter (pytest's would have imported and allocated
# far more): how the garbage collector is set when the command has run.
COLLECTOR_AFTER_A_COMMAND = """
import gc, json, sys
from source_customerio.run import run
sys.argv = ["source-customerio", "spec"]
run()
print(json.dumps({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold(), "enabled": gc.isenabled()}))
"""


def test_the_console_script_freezes_what_its_imports_left_and_collects_young_objects_less_often():
    collector = json.loads(fresh_interpreter_output(COLLECTOR_AFTER_A_COMMAND).splitlines()[-1])
    assert collector["enabled"]  # cycles made while reading are still collected
    assert collector["frozen"] > 50_000  # the CDK's modules, models and serializers (about 110,000 objects)
    assert collector["threshold"][0] == YOUNG_GENERATION_THRESHOLD
