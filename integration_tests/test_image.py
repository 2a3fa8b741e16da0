"""The connector image: spec, check, discover and read against the sandbox, inside the container,
as its non-root user. Run by `make test-image` (scripts/build_image.sh builds the image first); needs
a Docker daemon, so `make test` leaves these out."""

import os
import subprocess
from pathlib import Path
from typing import List

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.models.airbyte_protocol_serializers import ConfiguredAirbyteCatalogSerializer

from testkit.connector import canonical, catalog, discovered_streams, messages, run_cli, sandbox_config
from testkit.expected import EXPECTED

pytestmark = pytest.mark.connector_image

IMAGE = os.environ.get("CONNECTOR_IMAGE", "airbyte/source-customerio:dev")


def launcher(tmp_path: Path) -> List[str]:
    """`docker run` the way Airbyte does: files mounted at /data, the host's network (the sandbox
    listens on the host's loopback)."""
    return ["docker", "run", "--rm", "--network", "host", "-v", f"{tmp_path}:/data:ro", "-w", "/data", IMAGE]


@pytest.fixture(scope="module", autouse=True)
def image_exists() -> None:
    found = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, text=True)
    assert found.returncode == 0, f"No image {IMAGE}: run `make test-image`. {found.stderr.strip()}"


@pytest.fixture
def image_config(sandbox, tmp_path):
    tmp_path.chmod(0o755)  # readable by the container's user
    return sandbox_config(sandbox)


def test_the_image_runs_as_its_non_root_user():
    user = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", IMAGE, "-u"], capture_output=True, text=True, check=True
    )
    assert user.stdout.strip() != "0"


def test_spec_check_and_discover_in_the_image(image_config, tmp_path):
    spec = messages(run_cli(["spec"], tmp_path=tmp_path, launcher=launcher(tmp_path)).stdout)
    check = messages(
        run_cli(["check", "--config", "config.json"], image_config, tmp_path, launcher=launcher(tmp_path)).stdout
    )
    discover = messages(
        run_cli(["discover", "--config", "config.json"], image_config, tmp_path, launcher=launcher(tmp_path)).stdout
    )

    assert [message["type"] for message in spec if message["type"] != "LOG"] == ["SPEC"]
    assert [m["connectionStatus"]["status"] for m in check if m["type"] == "CONNECTION_STATUS"] == ["SUCCEEDED"]
    streams = [m for m in discover if m["type"] == "CATALOG"][0]["catalog"]["streams"]
    assert {stream["name"] for stream in streams} == set(discovered_streams(image_config))


def test_read_of_every_stream_in_the_image_is_exact(sandbox, image_config, tmp_path):
    names = sorted(EXPECTED)
    configured = ConfiguredAirbyteCatalogSerializer.dump(catalog(image_config, names, SyncMode.full_refresh))

    result = run_cli(
        ["read", "--config", "config.json", "--catalog", "catalog.json"],
        image_config,
        tmp_path,
        timeout=900,
        extra_files={"catalog.json": configured},
        launcher=launcher(tmp_path),
    )

    assert result.returncode == 0, result.stderr[-2000:]
    got: dict = {name: [] for name in names}
    for message in messages(result.stdout):
        if message["type"] == "RECORD":
            got[message["record"]["stream"]].append(message["record"]["data"])
    for name in names:
        assert canonical(got[name]) == canonical(EXPECTED[name](sandbox.workspace, image_config)), name
    assert sandbox.app_key not in result.stdout + result.stderr
