"""Account information: the addresses Customer.io sends webhooks and messages from."""

from sandbox.api import Request, route
from sandbox.workspace import Workspace

IP_ADDRESSES = (
    "35.188.196.183",
    "104.198.177.219",
    "104.154.232.87",
    "130.211.229.195",
    "104.198.221.24",
    "34.122.46.7",
)


@route("GET", "info/ip_addresses", scope="")
def list_ip_addresses(ws: Workspace, request: Request):
    return {"ip_addresses": list(IP_ADDRESSES)}
