"""The base streams. Leaves declare a resource; the behaviour lives here.

- `CustomerioStream`: one request per slice (the App API's unpaged lists).
- `CursorPaginatedStream`: `start`/`limit` → `next` cursor pagination.
- `OffsetPaginatedStream`: `limit`/`offset` pagination (ESP suppressions).
- `SubstreamMixin`: one slice per parent record, the parent list read once per sync.
- `ClientSideIncrementalMixin`: incremental on a timestamp the API cannot filter on.

A request is the family's `page_params`, then the leaf's `fixed_params` and `slice_params`, and a
POST's body is `slice_body`: leaves declare these instead of overriding the CDK's request hooks.
"""

import threading
from abc import ABC
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Tuple, Type
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.call_rate import HttpAPIBudget
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator

from source_customerio.config import ConnectorConfig, StateError
from source_customerio.errors import CustomerioBackoff, CustomerioErrorHandler, RetryLedger
from source_customerio.pagination import next_cursor, sent_cursor
from source_customerio.prefetch import OrderedPrefetcher
from source_customerio.responses import json_body


def saved_unix_seconds(stream_name: str, state: Any, cursor_field: str) -> Optional[int]:
    """The cursor of a one-cursor state (None when there is none), checked when the sync hands the
    state over, before any request: a state of another shape is a StateError naming the stream."""
    where = f"The saved state of stream `{stream_name}`"
    if state is not None and not isinstance(state, Mapping):
        raise StateError(where, f"is {state!r}, not an object")
    cursor = (state or {}).get(cursor_field)
    if cursor is not None and (isinstance(cursor, bool) or not isinstance(cursor, int)):
        raise StateError(where, f"has `{cursor_field}` {cursor!r}, which is not unix seconds")
    return cursor


def records_of_slice(
    listed: Optional[List[Mapping[str, Any]]], stream_slice: Optional[Mapping[str, Any]], carried: Tuple[str, ...]
) -> Optional[List[Mapping[str, Any]]]:
    """The records of `stream_slice` in a list read earlier, when the slice is one the list holds:
    empty (the whole list), or values of fields carried into every record (one parent's records).
    None when there is no list, or the slice asks for something a record does not show."""
    wanted = dict(stream_slice or {})
    if listed is None or not set(wanted) <= set(carried):
        return None
    return [record for record in listed if all(record.get(name) == value for name, value in wanted.items())]


class ParentCache:
    """Parent lists read once per sync and shared by every substream that needs them, and by the
    list's own stream when the sync reads it after such a substream."""

    def __init__(self) -> None:
        self._records: Dict[Type["CustomerioStream"], List[Mapping[str, Any]]] = {}
        self._lock = threading.RLock()  # re-entered when a parent list is itself a substream (objects)

    def records(self, parent_class: Type["CustomerioStream"], context: "StreamContext") -> List[Mapping[str, Any]]:
        with self._lock:
            if parent_class not in self._records:
                parent = parent_class(context)
                self._records[parent_class] = [
                    dict(record) for record in parent.read_only_records() if isinstance(record, Mapping)
                ]
            return self._records[parent_class]

    def listed(self, parent_class: Type["CustomerioStream"]) -> Optional[List[Mapping[str, Any]]]:
        """The list when a substream has already read it this sync, else None. Takes no lock: the
        readers that fill a list ask too, on other threads, while `records` holds it."""
        return self._records.get(parent_class)


@dataclass
class StreamContext:
    """What every stream of one source instance shares: config, key, rate budget, parent lists."""

    config: ConnectorConfig
    authenticator: TokenAuthenticator
    budget: HttpAPIBudget
    parents: ParentCache = field(default_factory=ParentCache)
    retry_network_errors: bool = True  # False for the connection check: an unreachable host fails at once


class CustomerioStream(HttpStream, ABC):
    """An App API resource read with one request per slice.

    Leaves set `data_field` (the response key holding the records) and `path_template`
    (formatted with the slice).
    """

    primary_key: Any = "id"
    data_field: str
    path_template: str
    ignore_missing_parent = False

    def __init__(self, context: StreamContext):
        self.context = context
        self._reading = threading.local()
        depth = context.config.max_concurrent_requests
        self._prefetcher = OrderedPrefetcher(depth) if depth > 1 else None
        self.retry_ledger = RetryLedger(context.config.rate_limit_max_wait_minutes * 60)
        super().__init__(authenticator=context.authenticator, api_budget=context.budget)

    @property
    def carried_slice_fields(self) -> Tuple[str, ...]:
        """The slice values added to every record that lacks them; none by default."""
        return ()

    @property
    def url_base(self) -> str:
        return f"{self.context.config.api_base}/v1/"

    @property
    def is_resumable(self) -> bool:
        # Full-refresh streams re-read everything; only incremental streams checkpoint.
        return self.supports_incremental

    def path(
        self,
        *,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> str:
        return self.path_template.format(**(stream_slice or {}))

    def request_kwargs(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Mapping[str, Any]:
        # Never follow a redirect: it means the wrong region, and would carry the key elsewhere.
        return {"timeout": self.context.config.request_timeout_seconds, "allow_redirects": False}

    def get_error_handler(self) -> CustomerioErrorHandler:
        return CustomerioErrorHandler(
            self.logger,
            ignore_missing_parent=self.ignore_missing_parent,
            retry_network_errors=self.context.retry_network_errors,
            ledger=self.retry_ledger,
            stream_name=self.name,
        )

    def get_backoff_strategy(self) -> CustomerioBackoff:
        return CustomerioBackoff(self.retry_ledger, stream_name=self.name, logger=self.logger)

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        return None

    fixed_params: Mapping[str, Any] = {}  # query parameters every request of the stream sends

    def page_params(self, next_page_token: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
        """The query parameters of the pagination family; none for unpaged lists."""
        return {}

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        """The query parameters a slice adds; none by default."""
        return {}

    def request_params(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        return {**self.page_params(next_page_token), **self.fixed_params, **self.slice_params(stream_slice or {})}

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
        """The JSON body of a slice's requests (POST endpoints); none by default."""
        return None

    def request_body_json(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Optional[Mapping[str, Any]]:
        return self.slice_body(stream_slice or {})

    def parse_response(
        self, response: requests.Response, *, stream_state=None, stream_slice=None, next_page_token=None, **kwargs
    ) -> Iterable[Mapping[str, Any]]:
        if response.status_code == 404:  # a parent that vanished mid-sync (ignored by the error table)
            return
        stream_slice, stream_state = stream_slice or {}, stream_state or {}
        carried_fields = self.carried_slice_fields  # a property on substreams: read once per page, not per record
        for record in self.extract_records(json_body(response)):
            for name in carried_fields:
                if record.get(name) is None:
                    record[name] = stream_slice[name]
            if self.keep(record, stream_state):
                yield self.transform(record)

    def extract_records(self, body: Mapping[str, Any]) -> List[MutableMapping[str, Any]]:
        return body.get(self.data_field) or []

    def transform(self, record: MutableMapping[str, Any]) -> Mapping[str, Any]:
        return record

    def keep(self, record: Mapping[str, Any], stream_state: Mapping[str, Any]) -> bool:
        return True

    def partitions(self, sync_mode: SyncMode, stream_state: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        """The slices to read; one empty slice by default."""
        return [{}]

    def stream_slices(
        self, *, sync_mode: SyncMode, cursor_field=None, stream_state=None
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        partitions = self.partitions(sync_mode, stream_state or {})
        if self._prefetcher is None:
            return partitions
        read_slice = partial(
            self._read_slice, sync_mode=sync_mode, cursor_field=cursor_field, stream_state=stream_state
        )
        return self._prefetcher.schedule(partitions, read_slice)

    def _read_slice(self, stream_slice, *, sync_mode, cursor_field, stream_state) -> Iterable[StreamData]:
        if sync_mode != SyncMode.incremental:
            stream_state = {}
        listed = records_of_slice(self.context.parents.listed(type(self)), stream_slice, self.carried_slice_fields)
        if listed is not None:  # a substream read this whole list earlier in the sync: no request
            yield from (dict(record) for record in listed if self.keep(record, stream_state or {}))
            return
        # Runs on the thread that reads this slice (a prefetch worker, or the main thread).
        self._reading.slice = stream_slice or {}
        self._reading.state = stream_state or {}
        yield from HttpStream.read_records(
            self, sync_mode=sync_mode, cursor_field=cursor_field, stream_slice=stream_slice, stream_state=stream_state
        )

    @property
    def reading_slice(self) -> Mapping[str, Any]:
        """The slice this thread is reading, for hooks the CDK calls without it (next_page_token)."""
        return getattr(self._reading, "slice", {})

    @property
    def reading_state(self) -> Mapping[str, Any]:
        """The frozen stream state of the read this thread is doing (empty in full refresh)."""
        return getattr(self._reading, "state", {})

    def records_outside_a_sync(self, stream_slice: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """The records of one slice, lazily, read outside a sync (no state, no observe/slice_complete): a
        discover-time sample, or the search a customers read is sliced from."""
        for item in self._read_slice(stream_slice, sync_mode=SyncMode.full_refresh, cursor_field=None, stream_state={}):
            if isinstance(item, Mapping):
                yield item

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable[StreamData]:
        records: Iterable[StreamData]
        if self._prefetcher is not None and self._prefetcher.is_next(stream_slice):
            records = self._prefetcher.records(stream_slice)
        else:
            records = self._read_slice(
                stream_slice, sync_mode=sync_mode, cursor_field=cursor_field, stream_state=stream_state
            )
        for record in records:
            if isinstance(record, Mapping):  # not a log message the CDK passes through
                self.observe(record)
            yield record
        self.slice_complete(stream_slice or {})

    def observe(self, record: Mapping[str, Any]) -> None:
        """Called in order for every emitted record (incremental streams advance their cursor)."""

    def slice_complete(self, stream_slice: Mapping[str, Any]) -> None:
        """Called after the last record of a slice, before the CDK emits state."""

    def is_last_partition(self, stream_slice: Mapping[str, Any]) -> bool:
        """Whether `stream_slice` is the stream's final slice (single-slice streams: always)."""
        return True


if TYPE_CHECKING:
    MixinBase = CustomerioStream  # mixins are type-checked as the streams they are mixed into
else:
    MixinBase = object


class CursorPaginatedStream(CustomerioStream, ABC):
    """`?start=<cursor>&limit=<page_size>`, following `next` until the listing ends."""

    page_size: Optional[int] = None  # None: the endpoint takes no limit

    def page_params(self, next_page_token: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
        return {**({"limit": self.page_size} if self.page_size else {}), **(next_page_token or {})}

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        if response.status_code != 200:
            return None
        body = json_body(response)
        cursor = next_cursor(body, sent_cursor(response.request.url or ""), len(self.extract_records(body)))
        return {"start": cursor} if cursor else None


class OffsetPaginatedStream(CustomerioStream, ABC):
    """`?limit=<page_size>&offset=<n>`, until a page comes back short, empty or null (past the end)."""

    page_size: int

    def page_params(self, next_page_token: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
        return {"limit": self.page_size, "offset": (next_page_token or {}).get("offset", 0)}

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        if response.status_code != 200 or len(self.extract_records(json_body(response))) < self.page_size:
            return None
        sent = parse_qs(urlsplit(response.request.url or "").query).get("offset", ["0"])[0]
        return {"offset": int(sent) + self.page_size}


class SubstreamMixin(MixinBase):
    """One slice per parent record: `{slice_field: parent[parent_field]}`, carried into records."""

    parent: Type[CustomerioStream]
    parent_field = "id"
    slice_field: str
    ignore_missing_parent = True

    @property
    def carried_slice_fields(self) -> Tuple[str, ...]:
        return (self.slice_field,)

    def partitions(self, sync_mode: SyncMode, stream_state: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        for parent in self.context.parents.records(self.parent, self.context):
            yield {self.slice_field: parent[self.parent_field]}

    def is_last_partition(self, stream_slice: Mapping[str, Any]) -> bool:
        parents = self.context.parents.records(self.parent, self.context)
        return not parents or stream_slice.get(self.slice_field) == parents[-1][self.parent_field]


class ClientSideIncrementalMixin(MixinBase):
    """Incremental on `cursor_field` for lists the API cannot filter: read all, keep records at or
    after the saved cursor (records updated in the saved second are read again, never lost).

    With one slice per parent, one cursor spans every parent: it moves only after the last parent,
    so a sync stopped half-way does not skip the older records of the parents it had not read.
    """

    cursor_field: str
    _cursor_value: Optional[int] = None
    _seen_value: Optional[int] = None

    @property
    def state(self) -> MutableMapping[str, Any]:
        return {self.cursor_field: self._cursor_value} if self._cursor_value is not None else {}

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._cursor_value = saved_unix_seconds(self.name, value, self.cursor_field)

    def keep(self, record: Mapping[str, Any], stream_state: Mapping[str, Any]) -> bool:
        saved = stream_state.get(self.cursor_field)
        value = record.get(self.cursor_field)
        return saved is None or value is None or value >= saved

    def observe(self, record: Mapping[str, Any]) -> None:
        value = record.get(self.cursor_field)
        if isinstance(value, int) and (self._seen_value is None or value > self._seen_value):
            self._seen_value = value

    def slice_complete(self, stream_slice: Mapping[str, Any]) -> None:
        if self.is_last_partition(stream_slice) and self._seen_value is not None:
            self._cursor_value = max(self._seen_value, self._cursor_value or self._seen_value)
