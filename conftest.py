"""Shared fixtures: the sandbox API on 127.0.0.1 and configs pointing at it."""

from typing import Callable, Iterator

import pytest

from sandbox.server import Sandbox, Settings
from sandbox.testing import sandbox_config
from sandbox.workspace import Knobs


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
