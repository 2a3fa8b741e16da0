"""The files Airbyte's registry and build read agree with each other and with the code.

metadata.yaml, Dockerfile, pyproject.toml, spec.json and docs/customerio.md are edited by hand in
different places; each test names the file to fix.
"""

import itertools
import json
import logging
import re
import tomllib
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Tuple
from urllib.parse import urlsplit

import pytest
import yaml

from source_customerio import SourceCustomerio
from source_customerio.config import REGION_HOSTS
from testkit.connector import discovered_streams

ROOT = Path(__file__).resolve().parent.parent
METADATA = yaml.safe_load((ROOT / "metadata.yaml").read_text())
DATA = METADATA["data"]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCS = (ROOT / "docs" / "customerio.md").read_text()

# Streams whose records describe people (issue 5): never suggested, marked in the docs.
PERSONAL_DATA_STREAMS = {
    "customers",
    "segment_members",
    "messages",
    "activities_all",
    "esp_suppressions",
    "objects",
    "object_relationships",
}
PERSONAL_DATA_PREFIXES = ("activity_",)  # activities in PARSED_DATA mode: activity_<type>
# The official connector's definitionId: ours is a different connector and must not reuse it.
OFFICIAL_DEFINITION_ID = "34f697bc-b989-4eda-b06f-d0f39b88825b"


def is_personal(stream: str) -> bool:
    return stream in PERSONAL_DATA_STREAMS or stream.startswith(PERSONAL_DATA_PREFIXES)


def spec() -> Mapping[str, Any]:
    """The spec as the connector emits it (the CDK loads spec.json from the package)."""
    emitted = SourceCustomerio().spec(logger=logging.getLogger("test"))
    return {"documentationUrl": emitted.documentationUrl, "connectionSpecification": emitted.connectionSpecification}


# -- metadata.yaml ---------------------------------------------------------------------------


def test_metadata_has_every_field_the_registry_requires():
    assert METADATA["metadataSpecVersion"] == "1.0"
    assert DATA["name"] == "Customer.io"
    assert str(uuid.UUID(DATA["definitionId"])) == DATA["definitionId"] != OFFICIAL_DEFINITION_ID
    assert DATA["connectorType"] == "source"
    assert DATA["connectorSubtype"] == "api"
    assert DATA["dockerRepository"] == "airbyte/source-customerio"
    assert DATA["githubIssueLabel"] == "source-customerio"
    assert DATA["license"] == PYPROJECT["tool"]["poetry"]["license"]
    assert DATA["releaseStage"] in {"alpha", "beta", "generally_available", "custom"}
    assert DATA["supportLevel"] in {"community", "certified", "archived"}
    assert {"language:python", "cdk:python"} <= set(DATA["tags"])
    assert (ROOT / DATA["icon"]).read_text().lstrip().startswith("<svg")


def test_metadata_image_tag_is_the_package_version():
    assert DATA["dockerImageTag"] == PYPROJECT["tool"]["poetry"]["version"]


def test_metadata_documentation_url_is_the_specs():
    assert DATA["documentationUrl"] == spec()["documentationUrl"]
    assert urlsplit(DATA["documentationUrl"]).scheme == "https"


def test_allowed_hosts_are_both_regions_hosts():
    assert set(DATA["allowedHosts"]["hosts"]) == {urlsplit(url).hostname for url in REGION_HOSTS.values()}
    assert {"api.customer.io", "api-eu.customer.io"} <= set(DATA["allowedHosts"]["hosts"])


def test_remote_registry_package_is_the_python_package():
    assert DATA["remoteRegistries"]["pypi"]["packageName"] == PYPROJECT["tool"]["poetry"]["name"]


# -- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions(name: str) -> List[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.split(None, 1)[:1] == [name]]


def test_base_image_is_pinned_by_digest():
    assert re.fullmatch(
        r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}",
        DATA["connectorBuildOptions"]["baseImage"],
    )


def test_dockerfile_builds_on_the_metadata_base_image():
    images = [instruction.split()[0] for instruction in dockerfile_instructions("FROM")]

    assert images and set(images) == {"${BASE_IMAGE}"}
    assert dockerfile_instructions("ARG") == [f"BASE_IMAGE={DATA['connectorBuildOptions']['baseImage']}"]


def test_dockerfile_runs_the_console_script_named_like_the_image():
    scripts = PYPROJECT["tool"]["poetry"]["scripts"]
    image_name = DATA["dockerRepository"].split("/")[-1]

    assert image_name in scripts
    assert dockerfile_instructions("ENTRYPOINT") == [f'["/usr/local/bin/{image_name}"]']
    assert f'ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/{image_name}"' in DOCKERFILE


def test_dockerfile_labels_match_metadata():
    labels = dict(label.split("=", 1) for label in dockerfile_instructions("LABEL"))

    assert labels == {"io.airbyte.name": DATA["dockerRepository"], "io.airbyte.version": DATA["dockerImageTag"]}


def test_dockerfile_copies_what_the_package_build_needs():
    copied = " ".join(dockerfile_instructions("COPY"))
    needed = ["pyproject.toml", "requirements.lock", PYPROJECT["tool"]["poetry"]["readme"]]
    needed += [package["include"] for package in PYPROJECT["tool"]["poetry"]["packages"]]

    assert all(name in copied for name in needed), needed


# -- suggested streams -----------------------------------------------------------------------


def test_suggested_streams_are_exactly_the_discovered_streams_without_personal_data(config):
    discovered = set(discovered_streams(config))
    suggested = DATA["suggestedStreams"]["streams"]

    assert len(suggested) == len(set(suggested))
    assert set(suggested) <= discovered
    assert not any(is_personal(name) for name in suggested)
    assert set(suggested) == {name for name in discovered if not is_personal(name)}


# -- spec.json -------------------------------------------------------------------------------


def properties(
    schema: Mapping[str, Any], prefix: str = ""
) -> Iterator[Tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(dotted name, property schema, the object holding it) for every property, nested too."""
    for name, prop in schema.get("properties", {}).items():
        yield prefix + name, prop, schema
        if prop.get("type") == "object":
            yield from properties(prop, f"{prefix}{name}.")


def test_every_spec_property_renders_with_title_description_and_unique_order():
    connection = spec()["connectionSpecification"]
    objects: Dict[int, List[int]] = {}

    for name, prop, parent in properties(connection):
        assert prop.get("title"), f"{name} has no title"
        assert len(prop.get("description", "")) >= 20, f"{name} has no description a newcomer understands"
        assert isinstance(prop.get("order"), int), f"{name} has no order"
        objects.setdefault(id(parent), []).append(prop["order"])

    assert all(len(orders) == len(set(orders)) for orders in objects.values())
    assert set(connection["required"]) <= set(connection["properties"])


def test_every_spec_default_is_one_of_its_enum_values():
    for name, prop, _ in properties(spec()["connectionSpecification"]):
        if "enum" in prop and "default" in prop:
            assert prop["default"] in prop["enum"], name
        if prop.get("type") == "array" and "enum" in prop.get("items", {}):
            assert set(prop.get("default", [])) <= set(prop["items"]["enum"]), name


def test_only_the_key_is_secret_and_it_is_required():
    connection = spec()["connectionSpecification"]
    secrets = [name for name, prop, _ in properties(connection) if prop.get("airbyte_secret")]

    assert secrets == ["app_api_key"]
    assert "app_api_key" in connection["required"]


# -- docs/customerio.md ----------------------------------------------------------------------


def docs_stream_table() -> Dict[str, Dict[str, str]]:
    """The rows of the table under "## Streams" in the docs, by stream name (backticks dropped)."""
    lines = DOCS.split("\n## Streams\n", 1)[1].splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("|"))
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[first:]))
    header = [cell.strip().lower() for cell in rows[0].strip("|").split("|")]
    table = {}
    for row in rows[2:]:
        cells = dict(zip(header, [cell.strip() for cell in row.strip("|").split("|")], strict=True))
        table[cells["stream"].strip("`")] = cells
    return table


def test_docs_stream_table_has_a_row_for_every_discovered_stream(config):
    documented = docs_stream_table()
    discovered = set(discovered_streams(config))
    # PARSED_DATA streams are named per type; the docs give them one row, `activity_<type>`.
    discovered.add("activity_<type>")

    assert discovered - set(documented) == set()


@pytest.mark.parametrize("flag", ["yes", "no"])
def test_docs_personal_data_column_matches_the_policy(flag):
    table = docs_stream_table()

    marked = {name for name, row in table.items() if row["personal data"].lower() == flag}

    assert marked and all(is_personal(name) == (flag == "yes") for name in marked)
    assert set(table) == {name for name, row in table.items() if row["personal data"].lower() in ("yes", "no")}


# -- schemas ---------------------------------------------------------------------------------
SCHEMAS = ROOT / "source_customerio" / "schemas"


def test_every_discovered_schema_has_its_shared_fragments_inlined(config):
    for name, stream in discovered_streams(config).items():
        schema = json.dumps(stream.json_schema)
        assert "$ref" not in schema, name
        assert all("type" in definition for definition in stream.json_schema["properties"].values()), name


def test_every_shared_fragment_is_used_by_several_schemas():
    schema_texts = [path.read_text() for path in SCHEMAS.glob("*.json")]
    for fragment in (SCHEMAS / "shared").glob("*.json"):
        users = sum(f'"$ref": "{fragment.name}"' in text for text in schema_texts)
        assert users >= 2, fragment.name


def test_the_delivery_metrics_schemas_count_the_same_metrics():
    def counted(path: Path) -> set:
        properties = json.loads(path.read_text())["properties"]
        return {name for name, definition in properties.items() if definition == {"$ref": "metric_count.json"}}

    streams = ("campaign", "campaign_action", "broadcast", "broadcast_action", "newsletter")
    counts = [counted(SCHEMAS / f"{stream}_metrics.json") for stream in streams]
    assert counts[0] and all(count == counts[0] for count in counts)
