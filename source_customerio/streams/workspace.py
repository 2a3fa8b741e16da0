"""Workspace-level resources."""

from source_customerio.streams.base import CustomerioStream


class Workspaces(CustomerioStream):
    """GET /v1/workspaces: the workspaces of the key's account, with usage counts. Also the connection check."""

    data_field = "workspaces"
    path_template = "workspaces"
