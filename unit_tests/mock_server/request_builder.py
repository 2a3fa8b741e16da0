"""HttpRequest matchers for App API endpoints: exact query params, or (for error tests only) any."""

from typing import Any, Dict, Optional

from airbyte_cdk.test.mock_http import HttpRequest
from airbyte_cdk.test.mock_http.request import ANY_QUERY_PARAMS

from source_customerio.config import REGION_HOSTS


class CustomerioRequestBuilder:
    """`CustomerioRequestBuilder.<resource>_endpoint(...).with_start(...).with_limit(...).build()`.

    Query params match exactly: a request built without `with_start` matches only a request
    that sends no `start`. `with_any_query_params()` cannot be mixed with explicit params.
    """

    @classmethod
    def endpoint(cls, path: str) -> "CustomerioRequestBuilder":
        """Any App API path below /v1/, e.g. "newsletters/7/contents"."""
        return cls(path)

    @classmethod
    def campaigns_endpoint(cls) -> "CustomerioRequestBuilder":
        return cls("campaigns")

    @classmethod
    def campaign_actions_endpoint(cls, campaign_id: Any) -> "CustomerioRequestBuilder":
        return cls(f"campaigns/{campaign_id}/actions")

    @classmethod
    def segments_endpoint(cls) -> "CustomerioRequestBuilder":
        return cls("segments")

    @classmethod
    def segment_membership_endpoint(cls, segment_id: Any) -> "CustomerioRequestBuilder":
        return cls(f"segments/{segment_id}/membership")

    @classmethod
    def newsletters_endpoint(cls) -> "CustomerioRequestBuilder":
        return cls("newsletters")

    @classmethod
    def workspaces_endpoint(cls) -> "CustomerioRequestBuilder":
        return cls("workspaces")

    def __init__(self, path: str) -> None:
        self._path = path
        self._base_url = REGION_HOSTS["US"]
        self._query_params: Dict[str, Any] = {}
        self._any_query_params = False

    def in_region(self, region: str) -> "CustomerioRequestBuilder":
        self._base_url = REGION_HOSTS[region]
        return self

    def with_base_url(self, base_url: str) -> "CustomerioRequestBuilder":
        self._base_url = base_url.rstrip("/")
        return self

    def with_start(self, cursor: str) -> "CustomerioRequestBuilder":
        return self.with_query_param("start", cursor)

    def with_limit(self, limit: int) -> "CustomerioRequestBuilder":
        return self.with_query_param("limit", limit)

    def with_query_param(self, name: str, value: Any) -> "CustomerioRequestBuilder":
        if self._any_query_params:
            raise ValueError(f"cannot add query param {name!r} to a request that matches any query params")
        self._query_params[name] = str(value)
        return self

    def with_any_query_params(self) -> "CustomerioRequestBuilder":
        if self._query_params:
            raise ValueError(
                f"cannot match any query params on a request with explicit params {sorted(self._query_params)}"
            )
        self._any_query_params = True
        return self

    @property
    def path(self) -> str:
        """The request's URL path, e.g. /v1/newsletters."""
        return f"/v1/{self._path}"

    def build(self) -> HttpRequest:
        query_params: Optional[Any] = ANY_QUERY_PARAMS if self._any_query_params else self._query_params
        return HttpRequest(url=f"{self._base_url}/v1/{self._path}", query_params=query_params)
