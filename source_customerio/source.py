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
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.concurrent_source.concurrent_source_adapter import ConcurrentSourceAdapter
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository, MessageRepository
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, FinalStateCursor
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator
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
from source_customerio.sync_state import SyncCursor

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
    more workers than partition makers, except for one worker doing everything in turn."""
    if max_concurrent_requests == 1:
        return 1, 1
    return max_concurrent_requests, min(2, max_concurrent_requests - 1)


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


class SyncPlan:
    """What one `read` builds its streams from: the catalog, the saved state, the engine's queue."""

    def __init__(
        self, catalog: ConfiguredAirbyteCatalog, state: Optional[List[AirbyteStateMessage]], logger: logging.Logger
    ):
        self.sync_modes = {configured.stream.name: configured.sync_mode for configured in catalog.streams}
        self.state_manager = ConnectorStateManager(state)
        self.queue = RecordBatchQueue()
        self.logger = logger


class SourceCustomerio(ConcurrentSourceAdapter):
    """Reads the catalog's streams on the CDK's concurrent engine, inside one shared rate budget."""

    def __init__(self) -> None:
        self._message_repository = InMemoryMessageRepository()
        self._plan: Optional[SyncPlan] = None
        super().__init__(concurrent_source=None)  # type: ignore[arg-type]  # built per read, from the config

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
        workers, partition_makers = engine_threads(parse_config(config).max_concurrent_requests)
        # The engine starts streams in catalog order: long page chains first, short streams fill in.
        long_chains = {stream.name for stream in self.streams(config) if getattr(stream, "long_chain", False)}
        catalog = ConfiguredAirbyteCatalog(
            streams=sorted(catalog.streams, key=lambda configured: configured.stream.name not in long_chains)
        )
        self._plan = SyncPlan(catalog, state, logger)
        self._concurrent_source = ConcurrentSource.create(
            workers, partition_makers, logger, self._slice_logger, self._message_repository, queue=self._plan.queue
        )
        try:
            yield from super().read(logger, config, catalog, state)
        finally:
            self._plan = None

    def streams(self, config: Mapping[str, Any]) -> List[Stream]:
        context = build_context(parse_config(config))
        streams: List[CustomerioStream] = [stream_class(context) for stream_class in STREAM_CLASSES]
        streams += activity_streams(context)
        if self._plan is None:  # check or discover
            return list(streams)
        selected = [stream for stream in streams if stream.name in self._plan.sync_modes]
        context.parents = ParentCache(shared=parents_of(selected))
        concurrent: List[Stream] = []
        state_errors: List[AirbyteTracedException] = []
        for stream in selected:
            try:
                concurrent.append(self._concurrent(stream, self._plan))
            except StateError as error:  # every stream's, before any request
                state_errors.append(error)
        if state_errors:
            raise one_error(state_errors)
        return concurrent

    def _concurrent(self, stream: CustomerioStream, plan: SyncPlan) -> Stream:
        cursor: Cursor
        if plan.sync_modes[stream.name] == SyncMode.incremental and stream.supports_incremental:
            saved = plan.state_manager.get_stream_state(stream.name, None)
            stream = stream.for_incremental_read(saved)
            cursor = SyncCursor(stream, saved, plan.queue.put, self._message_repository, plan.queue.send_records)
            stream.follow(cursor)
        else:
            cursor = FinalStateCursor(stream.name, None, self._message_repository)
        return concurrent_stream(stream, cursor, plan.logger, self._slice_logger, self._message_repository)
