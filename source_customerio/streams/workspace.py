"""Workspace-level resources."""

from source_customerio.streams.base import ClientSideIncrementalMixin, CustomerioStream


class Workspaces(CustomerioStream):
    """GET /v1/workspaces: the workspaces of the key's account, with usage counts. Also the connection check."""

    data_field = "workspaces"
    path_template = "workspaces"


class Exports(ClientSideIncrementalMixin, CustomerioStream):
    """GET /v1/exports: the workspace's export jobs (customers and deliveries); incremental on `updated_at`."""

    data_field = "exports"
    path_template = "exports"
    cursor_field = "updated_at"


class IpAddresses(CustomerioStream):
    """GET /v1/info/ip_addresses: the addresses Customer.io sends from (for allowlists), one record each."""

    primary_key = "ip_address"
    data_field = "ip_addresses"
    path_template = "info/ip_addresses"

    def extract_records(self, body):
        return [{"ip_address": address} for address in body.get(self.data_field) or []]
