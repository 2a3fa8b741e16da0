"""Campaigns (the UI's automations) and their actions."""

from source_customerio.streams.base import (
    ClientSideIncrementalMixin,
    CursorPaginatedStream,
    CustomerioStream,
    SubstreamMixin,
)
from source_customerio.streams.records import integer_ids


class Campaigns(ClientSideIncrementalMixin, CustomerioStream):
    """GET /v1/campaigns: the whole list in one response; incremental on `updated`, filtered here."""

    data_field = "campaigns"
    path_template = "campaigns"
    cursor_field = "updated"


class CampaignActions(SubstreamMixin, ClientSideIncrementalMixin, CursorPaginatedStream):
    """GET /v1/campaigns/{id}/actions: 10 actions per page (the API takes no limit); incremental on
    `updated`, filtered here, one cursor for all campaigns."""

    data_field = "actions"
    path_template = "campaigns/{campaign_id}/actions"
    parent = Campaigns
    slice_field = "campaign_id"
    cursor_field = "updated"

    def transform(self, record):
        return integer_ids(record, ("id", "campaign_id", "parent_action_id", "from_id", "reply_to_id"))
