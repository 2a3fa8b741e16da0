"""SourceCustomerio: checks the configuration and lists the streams. No HTTP logic here."""

import logging
from dataclasses import replace
from typing import Any, List, Mapping, Optional, Tuple

from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteStateMessage, Status
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_customerio.config import ConnectorConfig, StateError, parse_config
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
from source_customerio.streams.base import StreamContext
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


def build_context(config: ConnectorConfig) -> StreamContext:
    return StreamContext(
        config=config,
        authenticator=TokenAuthenticator(token=config.api_key),
        budget=build_api_budget(config.requests_per_second),
    )


class SourceCustomerio(AbstractSource):
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

    def streams(self, config: Mapping[str, Any]) -> List[Stream]:
        context = build_context(parse_config(config))
        streams: List[Stream] = [stream_class(context) for stream_class in STREAM_CLASSES]
        return streams + list(activity_streams(context))
