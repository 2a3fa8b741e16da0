"""Customers, export method: polling the export with backoff until done, failed or past the deadline."""

from itertools import islice
from typing import List

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_customerio.streams.customers import poll_delays, wait_for_export


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: List[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def statuses(*values):
    answers = iter(values)
    return lambda: {"id": 9, "status": next(answers), "failed": False}


def test_poll_delays_double_from_a_quarter_second_up_to_30_seconds():
    assert list(islice(poll_delays(), 10)) == [0.25, 0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_given_pending_twice_then_done_when_waiting_then_returns_the_done_export_after_two_sleeps():
    fake, logs = FakeTime(), []

    export = wait_for_export(statuses("pending", "pending", "done"), 120, logs.append, fake.sleep, fake.clock)

    assert export == {"id": 9, "status": "done", "failed": False}
    assert fake.sleeps == [0.25, 0.5]
    assert logs == [
        "Customer.io customers export 9 is pending after 0 s; checking again in 0.25 s.",
        "Customer.io customers export 9 is pending after 0 s; checking again in 0.5 s.",
    ]


def test_given_done_at_once_then_no_sleep():
    fake = FakeTime()

    wait_for_export(statuses("done"), 1, lambda message: None, fake.sleep, fake.clock)

    assert fake.sleeps == []


@pytest.mark.parametrize(
    "answer",
    [{"id": 9, "status": "failed", "failed": True}, {"id": 9, "status": "pending", "failed": True}],
    ids=["status", "flag"],
)
def test_given_failed_then_a_clear_system_error(answer):
    fake = FakeTime()

    with pytest.raises(AirbyteTracedException) as error:
        wait_for_export(lambda: answer, 120, lambda message: None, fake.sleep, fake.clock)

    assert error.value.failure_type == FailureType.system_error
    assert error.value.message.startswith("Customer.io reports customers export 9 as failed")
    assert fake.sleeps == []


def test_given_pending_forever_then_polls_until_the_deadline_and_fails_naming_the_option():
    fake = FakeTime()
    polls = []

    def pending():
        polls.append(fake.now)
        return {"id": 9, "status": "pending", "failed": False}

    with pytest.raises(AirbyteTracedException) as error:
        wait_for_export(pending, 1, lambda message: None, fake.sleep, fake.clock)

    # 0.25+0.5+1+2+4+8+16 = 31.75 s, then 28.25 s to land exactly on the deadline, then a last look.
    assert fake.sleeps == [0.25, 0.5, 1, 2, 4, 8, 16, 28.25]
    assert polls[-1] == 1060.0
    assert error.value.failure_type == FailureType.config_error
    assert error.value.message == (
        "Customer.io's customers export 9 was still pending after 1 minutes. "
        "Raise `customers.export_timeout_minutes`, or use `customers.method` search."
    )


def test_a_long_export_is_waited_for_far_beyond_keboolas_40_seconds():
    fake = FakeTime()
    answers = ["pending"] * 50 + ["done"]

    export = wait_for_export(statuses(*answers), 120, lambda message: None, fake.sleep, fake.clock)

    assert export["status"] == "done"
    assert fake.now - 1000.0 == pytest.approx(31.75 + 43 * 30)
