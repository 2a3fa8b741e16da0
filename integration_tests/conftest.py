"""The sandbox behind Airbyte's standard test suite (test_airbyte_standards.py).

The suite reads its configs from the files that acceptance-test-config.yml names. Those files point
at `http://127.0.0.1:18900`, where `python -m sandbox --port 18900` listens, so they also work by
hand and with `airbyte-cdk connector test`. Under pytest a fixed port would collide with parallel
runs, so `standard_sandbox` starts a private sandbox on a free port and, for the session, rewrites
that address in every config the suite loads to the sandbox's real one.
"""

from typing import Any, Dict, Iterator

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario

from sandbox.server import Sandbox
from sandbox.workspace import Knobs

CONFIG_SANDBOX_URL = "http://127.0.0.1:18900"
# Small, so that a read of every stream at the connector's 10 requests per second stays short, but
# every stream still has records (the suite requires at least one from each), and the commonest
# activity type fills more than one page.
STANDARD_KNOBS = Knobs(
    campaigns=3,
    segments=3,
    newsletters=4,
    people=60,
    messages=300,
    activities=600,
    broadcasts=2,
    transactional_messages=2,
    sender_identities=30,
    objects=6,
    suppressions=40,
)


@pytest.fixture(scope="session")
def standard_sandbox() -> Iterator[Sandbox]:
    original = ConnectorTestScenario.get_config_dict

    with Sandbox(STANDARD_KNOBS) as server:

        def config_for_this_sandbox(scenario: ConnectorTestScenario, **kwargs: Any) -> Dict[str, Any]:
            config = original(scenario, **kwargs)
            if config.get("api_url") == CONFIG_SANDBOX_URL:
                config = {**config, "api_url": server.url}
            return config

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ConnectorTestScenario, "get_config_dict", config_for_this_sandbox)
            yield server
