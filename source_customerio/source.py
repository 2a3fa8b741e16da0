"""SourceCustomerio: checks the configuration and lists the streams. No HTTP logic here."""

import logging
from dataclasses import replace
from typing import Any, FrozenSet, Iterator, List, Mapping, Optional, Tuple, Type

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    SyncMode,
)
from airbyte_cdk.sources.abstract_source import AbstractSource
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository, MessageRepository
from airbyte_cdk.sources.message.concurrent_repository import ConcurrentMessageRepository
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, FinalStateCursor
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator
from airbyte_cdk.sources.utils.slice_logger import SliceLogger
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_customerio.config import ConnectorConfig, StateError, parse_config
from source_customerio.engine import RecordBatchQueue, concurrent_stream
from source_customerio.errors import build_api_budget
from source_customerio.streams.activities import activity_streams
from source_customerio.streams.audience import (
    Collections,
    EspSuppressions,
    ObjectRelationships,
    Objects,
    ObjectTypes,
    SubscriptionTopics,
)
from source_customerio.streams.base import CustomerioStream, ParentCache, StreamContext
from source_customerio.streams.broadcasts import BroadcastActions, Broadcasts, BroadcastTriggers
from source_customerio.streams.campaigns import CampaignActions, Campaigns
from source_customerio.streams.customers import customers_stream
from source_customerio.streams.messages import Messages
from source_customerio.streams.messaging import ReportingWebhooks, SenderIdentities, Snippets
from source_customerio.streams.metrics import (
    BroadcastActionMetrics,
    BroadcastMetrics,
    CampaignActionMetrics,
    CampaignLinkMetrics,
    CampaignMetrics,
    NewsletterLinkMetrics,
    NewsletterMetrics,
)
from source_customerio.streams.newsletters import NewsletterContents, Newsletters, NewsletterTestGroups
from source_customerio.streams.segments import SegmentMembers, Segments, SegmentUsage
from source_customerio.streams.transactional import TransactionalContents, TransactionalMessages
from source_customerio.streams.workspace import Exports, IpAddresses, Workspaces
from source_customerio.sync_state import SyncCursor, parse_state

# What the CDK's `read_state` raises for a state file it cannot parse (JSON, then the protocol's
# schema); unit_tests/test_cdk_contract.py fails when that changes.
STATE_FILE_ERRORS = (TypeError, ValueError)

STREAM_CLASSES = (
    Campaigns,
    CampaignActions,
    Segments,
    SegmentMembers,
    Newsletters,
    Workspaces,
    Broadcasts,
    BroadcastActions,
    BroadcastTriggers,
    NewsletterContents,
    NewsletterTestGroups,
    TransactionalMessages,
    TransactionalContents,
    SenderIdentities,
    Snippets,
    ReportingWebhooks,
    SegmentUsage,
    ObjectTypes,
    Objects,
    ObjectRelationships,
    SubscriptionTopics,
    EspSuppressions,
    Collections,
    Exports,
    IpAddresses,
    Messages,
    customers_stream,  # a class per `customers.method`
    CampaignMetrics,
    CampaignActionMetrics,
    CampaignLinkMetrics,
    NewsletterMetrics,
    NewsletterLinkMetrics,
    BroadcastMetrics,
    BroadcastActionMetrics,
)


def engine_threads(max_concurrent_requests: int) -> Tuple[int, int]:
    """The engine's workers, and how many of them may make partitions (slices) at once: every
    request is sent from a worker, so there are `max_concurrent_requests` of them. The CDK wants
    more workers than partition makers, except for one worker doing everything in turn. Three
    makers, not two: making slices can take requests (message windows' probes, the people search),
    and the streams waiting for a maker meanwhile left the budget a call a second short."""
    if max_concurrent_requests == 1:
        return 1, 1
    return max_concurrent_requests, min(3, max_concurrent_requests - 1)


def start_order(stream: CustomerioStream) -> Tuple[bool, bool]:
    """Where the engine starts a stream: long page chains first, so short streams fill the budget
    around them; among those, the ones whose slices are ready at once (the activity log) before the
    ones whose slices take requests to make, which would hold the engine's slice makers meanwhile."""
    return not stream.long_chain, stream.slices_need_requests


def build_context(config: ConnectorConfig) -> StreamContext:
    return StreamContext(
        config=config,
        authenticator=TokenAuthenticator(token=config.api_key),
        budget=build_api_budget(config.requests_per_second),
    )


def parents_of(streams: List[CustomerioStream]) -> FrozenSet[Type[CustomerioStream]]:
    """The lists the given streams are sliced by, and the lists those are sliced by."""
    parents = set()
    for stream in streams:
        parent = getattr(stream, "parent", None)
        while parent is not None and parent not in parents:
            parents.add(parent)
            parent = getattr(parent, "parent", None)
    return frozenset(parents)


def one_error(errors: List[AirbyteTracedException]) -> AirbyteTracedException:
    """The error telling every problem of `errors` (one error: itself)."""
    if len(errors) == 1:
        return errors[0]
    message = " ".join(error.message or "" for error in errors)
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


class Sync:
    """One `read`, built whole from its config, catalog and saved state: the engine's queue, the
    message repository that puts state and other messages on it, the selected streams as the
    engine's streams, in `start_order`."""

    def __init__(
        self,
        config: ConnectorConfig,
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]],
        logger: logging.Logger,
        slice_logger: SliceLogger,
    ):
        self._logger = logger
        self._slice_logger = slice_logger
        self._sync_modes = {configured.stream.name: configured.sync_mode for configured in catalog.streams}
        self._state_manager = ConnectorStateManager(state)
        self._queue = RecordBatchQueue()
        self._message_repository = ConcurrentMessageRepository(self._queue, InMemoryMessageRepository())
        self._streams = self._engine_streams(config)
        workers, partition_makers = engine_threads(config.max_concurrent_requests)
        self._engine = ConcurrentSource.create(
            workers, partition_makers, logger, slice_logger, self._message_repository, queue=self._queue
        )

    def read(self) -> Iterator[AirbyteMessage]:
        yield from self._engine.read(self._streams)

    def _engine_streams(self, config: ConnectorConfig) -> List[AbstractStream]:
        context = build_context(config)
        catalog_order = {name: position for position, name in enumerate(self._sync_modes)}
        selected = [stream for stream in all_streams(context) if stream.name in catalog_order]
        selected.sort(key=lambda stream: (*start_order(stream), catalog_order[stream.name]))
        context.parents = ParentCache(shared=parents_of(selected))
        engine_streams: List[AbstractStream] = []
        state_errors: List[AirbyteTracedException] = []
        for stream in selected:
            try:
                engine_streams.append(self._engine_stream(stream))
            except StateError as error:  # every stream's, before any request
                state_errors.append(error)
        if state_errors:
            raise one_error(state_errors)
        return engine_streams

    def _engine_stream(self, stream: CustomerioStream) -> AbstractStream:
        cursor: Cursor
        if self._sync_modes[stream.name] == SyncMode.incremental and stream.supports_incremental:
            saved_state = self._state_manager.get_stream_state(stream.name, None)
            saved = parse_state(stream.name, saved_state, str(stream.cursor_field), stream.state_per_series)
            stream = stream.read_incrementally(saved)
            cursor = SyncCursor(stream, saved, self._message_repository, self._queue.send_records)
        else:
            cursor = FinalStateCursor(stream.name, None, self._message_repository)
        return concurrent_stream(stream, cursor, self._logger, self._message_repository)


def all_streams(context: StreamContext) -> List[CustomerioStream]:
    streams: List[CustomerioStream] = [stream_class(context) for stream_class in STREAM_CLASSES]
    return streams + list(activity_streams(context))


class SourceCustomerio(AbstractSource):
    """Checks the configuration, lists the streams, and reads the catalog's streams on the CDK's
    concurrent engine, inside one shared rate budget (a `Sync` per read)."""

    def __init__(self) -> None:
        self._message_repository = InMemoryMessageRepository()

    @property
    def message_repository(self) -> MessageRepository:
        return self._message_repository

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        # The CDK's check would show repr() of the reason, quotes and all; ours is already one sentence.
        succeeded, reason = self.check_connection(logger, config)
        return (
            AirbyteConnectionStatus(status=Status.SUCCEEDED)
            if succeeded
            else AirbyteConnectionStatus(status=Status.FAILED, message=reason)
        )

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> Tuple[bool, Optional[Any]]:
        try:
            context = replace(build_context(parse_config(config)), retry_network_errors=False)
            list(Workspaces(context).read_only_records())  # all of it: with --debug the first item is a log message
        except AirbyteTracedException as error:
            return False, error.message
        return True, None

    @classmethod
    def read_state(cls, state_path: str) -> List[AirbyteStateMessage]:
        try:
            return super().read_state(state_path)
        except STATE_FILE_ERRORS as error:
            raise StateError(
                "The state file", f"is not a list of Airbyte state messages ({' '.join(str(error).split())})"
            ) from None

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        yield from Sync(parse_config(config), catalog, state, logger, self._slice_logger).read()

    def streams(self, config: Mapping[str, Any]) -> List[Stream]:
        return list(all_streams(build_context(parse_config(config))))
