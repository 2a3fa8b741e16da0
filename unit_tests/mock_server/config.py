"""Connector configs for mock-server tests: a fake key, and only the fields a test sets."""

from typing import Any, Dict

API_KEY = "fake-app-key-0000"


class ConfigBuilder:
    def __init__(self) -> None:
        self._config: Dict[str, Any] = {"app_api_key": API_KEY}

    def with_region(self, region: str) -> "ConfigBuilder":
        self._config["region"] = region
        return self

    def with_api_url(self, api_url: str) -> "ConfigBuilder":
        self._config["api_url"] = api_url
        return self

    def with_option(self, name: str, value: Any) -> "ConfigBuilder":
        """Any other top-level field, e.g. `messages` or `max_concurrent_requests`."""
        self._config[name] = value
        return self

    def build(self) -> Dict[str, Any]:
        return dict(self._config)
