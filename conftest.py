"""Shared fixtures: the sandbox API on 127.0.0.1 and configs pointing at it."""

import logging
import random
import time
from typing import Callable, Iterator

import pytest
from airbyte_cdk.sources.streams.http.http_client import HttpClient

import source_customerio.source
from sandbox.server import Sandbox, Settings
from sandbox.workspace import Knobs
from testkit.connector import sandbox_config


@pytest.fixture(autouse=True)
def airbyte_logs_reach_the_root_logger(monkeypatch) -> None:
    """The CDK's test entrypoint captures logs at the root logger; PyAirbyte, once an earlier test has
    imported it, stops its "airbyte" logger (also the CDK's) propagating there."""
    monkeypatch.setattr(logging.getLogger("airbyte"), "propagate", True)


# The standard suite's scenarios and options (--connector-image for its image tests); only the root
# conftest may declare plugins.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

# The connector's budget of 10 requests per second (the API's limit) is most of the time a test
# waits; a test that does not measure it reads unthrottled. Mark a test `rate_budget` to keep it.
UNTHROTTLED_REQUESTS_PER_SECOND = 1000


@pytest.fixture(autouse=True)
def unthrottled_connector(request, monkeypatch) -> None:
    if request.node.get_closest_marker("rate_budget") is None:
        build = source_customerio.source.build_api_budget
        monkeypatch.setattr(
            source_customerio.source, "build_api_budget", lambda _: build(UNTHROTTLED_REQUESTS_PER_SECOND)
        )


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--response-jitter-ms",
        type=float,
        default=0,
        help="Wait a random 0..N ms before and after each request the connector sends in the test process "
        "(make test-interleavings): the engine's workers then finish in other orders, which a test that "
        "assumes one order fails on.",
    )


@pytest.fixture(autouse=True)
def response_jitter(request, monkeypatch) -> None:
    most = request.config.getoption("--response-jitter-ms") / 1000
    if most:
        send = HttpClient.send_request

        def send_request_late(*args, **kwargs):
            time.sleep(random.uniform(0, most))
            answer = send(*args, **kwargs)
            time.sleep(random.uniform(0, most))
            return answer

        monkeypatch.setattr(HttpClient, "send_request", send_request_late)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for read-only tests (default sizes, no rate limit, no faults)."""
    with Sandbox() as server:
        yield server


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """A private sandbox per test, for tests that move the clock, inject faults or set knobs."""
    started = []

    def factory(knobs: Knobs = None, settings: Settings = None, **kwargs) -> Sandbox:
        server = Sandbox(knobs, settings, **kwargs).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def config(sandbox: Sandbox) -> dict:
    return sandbox_config(sandbox)
