"""The console script's entrypoint: the CDK's, with configuration problems told the user's way.

The CDK checks the config against spec.json before check, discover and read, and reports a
violation as jsonschema words without the field ("'XX' is not one of ['US', 'EU']"). Here a
violation becomes a ConfigError that names the field and says what to do. A config_error that ends
discover or read (a bad config or state file, or the summary after failed streams) is printed as one
trace without a stack trace: the fix is the user's, and the connector's internals would only hide it.
"""

import sys
from functools import lru_cache
from typing import Any, DefaultDict, List, Mapping, Optional

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification, FailureType, Type
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.sources.utils.schema_helpers import split_config
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from jsonschema import Draft7Validator, ValidationError
from jsonschema.exceptions import best_match

from source_customerio.config import ConfigError
from source_customerio.source import SourceCustomerio


def field_name(error: ValidationError) -> str:
    """`messages.lookback_days` for a nested value; array positions are left out."""
    path = [str(part) for part in error.absolute_path if not isinstance(part, int)]
    if error.validator == "required":
        path.append(next(name for name in error.validator_value if name not in error.instance))
    return ".".join(path) or "config"


def problem(error: ValidationError) -> str:
    """jsonschema's words, except where they would show a regular expression or repeat the name."""
    if error.validator == "required":
        return "is missing"
    if error.validator == "minLength":
        return "is empty"
    if error.validator == "pattern":
        return f"{error.instance!r} is not in the expected form"
    # filter_secrets: the offending value may be the key itself.
    return filter_secrets(error.message)


def how_to_fix(error: ValidationError) -> str:
    schema: Mapping[str, Any] = error.schema
    if error.validator == "required":
        return "Add it; see its description in the connector's settings."
    if error.validator == "enum":
        return f"Use one of {', '.join(map(str, schema['enum']))}."
    if error.validator in ("minimum", "maximum"):
        return f"Use a number from {schema.get('minimum')} to {schema.get('maximum')}."
    if error.validator == "pattern" and "pattern_descriptor" in schema:
        return f"Use the form {schema['pattern_descriptor']}" + (
            f", e.g. {schema['examples'][0]}." if schema.get("examples") else "."
        )
    if error.validator == "minLength":
        return "Give a value."
    if error.validator == "type":
        return f"Give a value of type {schema['type']}."
    return "See its description in the connector's settings."


def check_against_spec(config: Mapping[str, Any], spec: ConnectorSpecification) -> None:
    """Raise a ConfigError naming the first field that breaks spec.json."""
    connector_config, _ = split_config(config)
    error = best_match(Draft7Validator(spec.connectionSpecification).iter_errors(connector_config))
    if error is not None:
        raise ConfigError(field_name(error), problem(error), how_to_fix(error))


@lru_cache(maxsize=None)
def counted_stream(name: str, namespace: Optional[str]) -> HashableStreamDescriptor:
    return HashableStreamDescriptor(name=name, namespace=namespace)


class CustomerioEntrypoint(AirbyteEntrypoint):
    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        check_against_spec(config, source_spec)

    @staticmethod
    def handle_record_counts(
        message: AirbyteMessage, stream_message_count: DefaultDict[HashableStreamDescriptor, float]
    ) -> AirbyteMessage:
        """The CDK's, with each record counted under its stream's one descriptor: the CDK builds a new
        descriptor per record (0.8 µs in a micro-benchmark, about 6% of a segment member's CPU after
        start-up). State messages, which take the counts, go to the CDK's."""
        record = message.record
        if message.type == Type.RECORD and record is not None:
            stream_message_count[counted_stream(record.stream, record.namespace)] += 1.0
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)


def run_entrypoint(entrypoint: AirbyteEntrypoint, args: List[str]) -> None:
    """What the CDK's `airbyte_cdk.entrypoint.launch` does, for an entrypoint of our own (`launch`
    builds a plain AirbyteEntrypoint). unit_tests/test_cdk_contract.py fails when the CDK's changes.

    One write per message where `launch` prints: print() writes the message, then `end` (even empty),
    each taking the print buffer's lock (0.6 µs a message in a micro-benchmark, about 5% of a segment
    member's CPU after start-up)."""
    parsed_args = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        for message in entrypoint.run(parsed_args):
            sys.stdout.write(f"{message}\n")  # the print buffer, while inside it


def print_config_error(error: AirbyteTracedException) -> None:
    """One trace message without a stack trace: the fix is the user's."""
    message = error.as_sanitized_airbyte_message()
    if message.trace is not None and message.trace.error is not None:
        message.trace.error.stack_trace = None
    print(f"{AirbyteEntrypoint.airbyte_message_to_string(message)}\n", end="", flush=True)


def launch(args: List[str]) -> None:
    try:
        run_entrypoint(CustomerioEntrypoint(SourceCustomerio()), args)
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise
        print_config_error(error)
        sys.exit(1)
