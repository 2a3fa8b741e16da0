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
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Mapping,
    MutableMapping,
    Optional,
    Tuple,
    Type,
)
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator

from source_customerio import windows
from source_customerio.budget import ChainFirstBudget, next_request_follows
from source_customerio.config import ConnectorConfig
from source_customerio.errors import CustomerioBackoff, CustomerioErrorHandler, RetryLedger
from source_customerio.pagination import (
    MAX_EMPTY_PAGES_IN_A_ROW,
    PAGES_READ,
    ListingProgress,
    listing_of,
    next_cursor,
    sent_cursor,
)
from source_customerio.responses import answered_at, json_body
from source_customerio.sync_state import Cursors, SeriesName


class ParentCache:
    """Parent lists read once per sync and shared by every stream that needs them: the substreams
    sliced by a list, and the list's own stream, which the sync reads whole, as one slice."""

    def __init__(self, shared: FrozenSet[Type["CustomerioStream"]] = frozenset()) -> None:
        self.shared = shared  # the lists some stream of this sync is sliced by, directly or not
        self._records: Dict[Type["CustomerioStream"], List[Mapping[str, Any]]] = {}
        self._locks: Dict[Type["CustomerioStream"], threading.RLock] = {}
        self._locks_lock = threading.Lock()

    def _lock(self, parent_class: Type["CustomerioStream"]) -> threading.RLock:
        # A lock per list, so two substreams read two lists at once.
        with self._locks_lock:
            return self._locks.setdefault(parent_class, threading.RLock())

    def records(self, parent_class: Type["CustomerioStream"], context: "StreamContext") -> List[Mapping[str, Any]]:
        with self._lock(parent_class):
            if parent_class not in self._records:
                parent = parent_class(context)
                parent.reads_for_cache = True
                self._records[parent_class] = [
                    dict(record) for record in parent.read_only_records() if isinstance(record, Mapping)
                ]
            return self._records[parent_class]

    def serves(self, stream: "CustomerioStream") -> bool:
        """Whether `stream` is read from its shared list (whole, as one slice), not from the API."""
        return type(stream) in self.shared and not stream.reads_for_cache


Page = Tuple[requests.PreparedRequest, requests.Response]
# First pages kept for their slices' reads at most. Slices are made far ahead of their reads, so beyond
# this a slice's read asks for its first page again (a request, never a record, is what that costs). A
# page stays parsed as the probe parsed it, 2.9 MB for 1000 messages: a 1,000,000-message read peaked at
# 217–237 MB RSS across bench runs (189 MB kept as text, whose second parse cost a 200,000-message read
# 3% more CPU).
MOST_PAGES_IN_HAND = 16


class PagesInHand:
    """First pages of slices fetched while the slices were made (a message window's probe is its first
    page), handed to each slice's read instead of asking the API again."""

    def __init__(self, most: int = MOST_PAGES_IN_HAND) -> None:
        self.most = most
        self._pages: Dict[Tuple[Tuple[str, Any], ...], Page] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(stream_slice: Mapping[str, Any]) -> Tuple[Tuple[str, Any], ...]:
        return tuple(sorted(stream_slice.items()))

    def keep(self, stream_slice: Mapping[str, Any], page: Page) -> None:
        """Keep the first page of `stream_slice` for its read, if there is room."""
        with self._lock:
            if len(self._pages) < self.most:
                self._pages[self._key(stream_slice)] = page

    def take(self, stream_slice: Optional[Mapping[str, Any]]) -> Optional[Page]:
        """The first page of `stream_slice`, once, if it is in hand."""
        with self._lock:
            return self._pages.pop(self._key(stream_slice or {}), None) if self._pages else None


class FirstAnswers:
    """When the API first answered each stream class this sync, by the API's clock. A list read once
    for several streams (the parent cache) counts for all of them: they share its class."""

    def __init__(self) -> None:
        self._first: Dict[type, int] = {}
        self._lock = threading.Lock()

    def note(self, stream_class: type, answered: int) -> None:
        with self._lock:
            if answered < self._first.get(stream_class, answered + 1):
                self._first[stream_class] = answered

    def of(self, stream_class: type) -> Optional[int]:
        with self._lock:
            return self._first.get(stream_class)


@dataclass
class StreamContext:
    """What every stream of one source instance shares: config, key, rate budget, parent lists."""

    config: ConnectorConfig
    authenticator: TokenAuthenticator
    budget: ChainFirstBudget
    parents: ParentCache = field(default_factory=ParentCache)
    first_answers: FirstAnswers = field(default_factory=FirstAnswers)
    retry_network_errors: bool = True  # False for the connection check: an unreachable host fails at once


class CustomerioStream(HttpStream, ABC):
    """An App API resource read with one request per slice.

    Leaves set `data_field` (the response key holding the records) and `path_template`
    (formatted with the slice). Incremental leaves set `cursor_field` and, where the default does
    not fit, the state model's hooks (`series_of`, `checkpoint`, see `source_customerio.sync_state`).
    """

    primary_key: Any = "id"
    data_field: str
    path_template: str
    ignore_missing_parent = False
    state_per_series = False  # the saved state keeps one cursor per series (`{"states": [...]}`)
    checkpoint_every_slice = False  # else a series' cursor moves only after its last slice
    checkpoint_from_records = True  # `checkpoint` uses the newest record's cursor (so every record is observed)
    long_chain = False  # pages follow one another for long: the engine starts these streams first
    slices_need_requests = False  # making its slices reads the API: started after the chains ready at once
    reads_for_cache = False  # this instance reads a parent list for `ParentCache`

    def __init__(self, context: StreamContext):
        self.context = context
        self.saved_cursors: Optional[Mapping[SeriesName, int]] = None  # set when the sync reads incrementally
        self.retry_ledger = RetryLedger(context.config.rate_limit_max_wait_minutes * 60)
        self.pages_in_hand = PagesInHand()
        super().__init__(authenticator=context.authenticator, api_budget=context.budget)

    def read_incrementally(self, saved: Cursors) -> "CustomerioStream":
        """The stream that reads incrementally from the saved cursors, with a read-only view of them."""
        stream = self.for_incremental_read(saved)
        stream.saved_cursors = MappingProxyType(dict(saved))
        return stream

    @property
    def reads_incrementally(self) -> bool:
        return self.saved_cursors is not None

    def saved_cursor(self, series: SeriesName = None) -> Optional[int]:
        """The saved cursor of a series when the sync reads incrementally, else None."""
        return self.saved_cursors.get(series) if self.saved_cursors is not None else None

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName:
        """The series a slice belongs to; one series by default."""
        return None

    def checkpoint(
        self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]
    ) -> Optional[int]:
        """A series' new cursor once every slice up to its checkpoint `stream_slice` is read;
        by default the newest cursor value of the series' records."""
        return newest_seen

    def checkpoint_of_empty_read(self) -> Optional[Tuple[SeriesName, int]]:
        """(series, new cursor) when a read had no slice at all; by default the cursor stays."""
        return None

    def for_incremental_read(self, saved: Cursors) -> "CustomerioStream":
        """The stream that reads incrementally from the `saved` cursors: this one, unless a stream
        reads differently depending on its state."""
        return self

    def note_answer(self, response: requests.Response, key: type) -> None:
        """Remember when the API answered, by its clock, if it is the first answer for `key` this sync."""
        self.context.first_answers.note(key, answered_at(response.headers.get("Date"), windows.current_time()))

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

    def _fetch_next_page(
        self,
        stream_slice: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Page:
        # The CDK's one way to a page, for the first and every later page of a slice: a first page
        # already in hand is not asked for again (test_cdk_contract.py checks the CDK still goes here).
        in_hand = self.pages_in_hand.take(stream_slice) if next_page_token is None else None
        return in_hand or super()._fetch_next_page(stream_slice, stream_state, next_page_token)

    fixed_params: Mapping[str, Any] = {}  # query parameters every request of the stream sends

    def page_params(self, next_page_token: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
        """The query parameters of the pagination family; none for unpaged lists."""
        return {}

    def slice_params(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        """The query parameters a slice adds; none by default."""
        return {}

    def pages_read(self, next_page_token: Optional[Mapping[str, Any]]) -> int:
        """How many pages of its listing come before the page `next_page_token` asks for; 0 unpaged."""
        return 0

    def request_params(
        self,
        stream_state: Optional[Mapping[str, Any]],
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        # Built right before the request is sent, on the thread that sends it: the budget serves the
        # longest chain first (source_customerio.budget).
        next_request_follows(self.pages_read(next_page_token))
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
        stream_slice = stream_slice or {}
        carried_fields = self.carried_slice_fields  # a property on substreams: read once per page, not per record
        for record in self.page_records(response, stream_slice):
            for name in carried_fields:
                if record.get(name) is None:
                    record[name] = stream_slice[name]
            if self.keep(record, stream_slice):
                yield self.transform(record)

    def page_records(
        self, response: requests.Response, stream_slice: Mapping[str, Any]
    ) -> List[MutableMapping[str, Any]]:
        """The records of one page of `stream_slice`."""
        return self.extract_records(json_body(response))

    def extract_records(self, body: Mapping[str, Any]) -> List[MutableMapping[str, Any]]:
        return body.get(self.data_field) or []

    def transform(self, record: MutableMapping[str, Any]) -> Mapping[str, Any]:
        return record

    def keep(self, record: Mapping[str, Any], stream_slice: Mapping[str, Any]) -> bool:
        return True

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        """The slices to read; one empty slice by default."""
        return [{}]

    def stream_slices(
        self, *, sync_mode: SyncMode, cursor_field=None, stream_state=None
    ) -> Iterable[Optional[Mapping[str, Any]]]:
        # A list other streams are sliced by is read once, whole, for all of them: here as one slice.
        return [{}] if self.context.parents.serves(self) else self.partitions()

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None) -> Iterable[StreamData]:
        parents = self.context.parents
        if parents.serves(self):
            listed = parents.records(type(self), self.context)
            yield from (dict(record) for record in listed if self.keep(record, {}))
            return
        yield from super().read_records(
            sync_mode=sync_mode, cursor_field=cursor_field, stream_slice=stream_slice, stream_state=stream_state
        )
        self.context.budget.chain_ended()  # the slice's listing has no more pages

    def records_outside_a_sync(self, stream_slice: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """The records of one slice, lazily, read outside a sync (no state): a discover-time sample, or
        the search a customers read is sliced from."""
        for item in self.read_records(SyncMode.full_refresh, stream_slice=stream_slice):
            if isinstance(item, Mapping):
                yield item


if TYPE_CHECKING:
    MixinBase = CustomerioStream  # mixins are type-checked as the streams they are mixed into
else:
    MixinBase = object


class CursorPaginatedStream(CustomerioStream, ABC):
    """`?start=<cursor>&limit=<page_size>`, following `next` until the listing ends."""

    page_size: Optional[int] = None  # None: the endpoint takes no limit

    def page_params(self, next_page_token: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
        start = {"start": next_page_token["start"]} if next_page_token else {}
        return {**({"limit": self.page_size} if self.page_size else {}), **start}

    def pages_read(self, next_page_token: Optional[Mapping[str, Any]]) -> int:
        return next_page_token[PAGES_READ] if next_page_token else 0

    def __init__(self, context: StreamContext):
        super().__init__(context)
        self.listings = ListingProgress()

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        if response.status_code != 200:
            return None
        body = json_body(response)
        sent = sent_cursor(response.request.url or "")
        cursor = next_cursor(body, sent)
        if cursor is None:
            return None
        page_length = len(self.extract_records(body))
        progress = self.listings.follow(listing_of(response.request), sent, page_length, cursor)
        if progress.empty_in_a_row >= MAX_EMPTY_PAGES_IN_A_ROW:
            self.logger.warning(
                f"Stream `{self.name}`: Customer.io answered {progress.empty_in_a_row} empty pages in a row, each "
                f"with a new `next`; this listing ({response.request.method} "
                f"{urlsplit(response.request.url or '').path}) is read no further. Records after those pages, if "
                "any, are not in this sync."
            )
            return None
        return {"start": cursor, PAGES_READ: progress.pages}


class OffsetPaginatedStream(CustomerioStream, ABC):
    """`?limit=<page_size>&offset=<n>`, until a page comes back short, empty or null (past the end)."""

    page_size: int

    def page_params(self, next_page_token: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
        return {"limit": self.page_size, "offset": (next_page_token or {}).get("offset", 0)}

    def pages_read(self, next_page_token: Optional[Mapping[str, Any]]) -> int:
        return (next_page_token or {}).get("offset", 0) // self.page_size

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

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        for parent in self.context.parents.records(self.parent, self.context):
            yield {self.slice_field: parent[self.parent_field]}


class ClientSideIncrementalMixin(MixinBase):
    """Incremental on `cursor_field` for lists the API cannot filter: read all, keep records at or
    after the saved cursor (records updated in the saved second are read again, never lost).

    No list is ordered by its update time, so a record edited after its page was read can be older
    than a record read later. The new cursor is therefore the newest record's value, but never past
    the moment the API first answered the stream this sync (its `Date`, so the connector's clock does
    not matter) less `edits_lookback_minutes`: an edit made while the sync ran is read by the next.

    One cursor spans every parent of a substream: it moves only after every parent is read, so a
    sync stopped half-way does not skip the older records of the parents it had not read.
    """

    cursor_field: str

    def keep(self, record: Mapping[str, Any], stream_slice: Mapping[str, Any]) -> bool:
        saved = self.saved_cursor()
        value = record.get(self.cursor_field)
        return saved is None or value is None or value >= saved

    def parse_response(self, response: requests.Response, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        self.note_answer(response, type(self))
        yield from super().parse_response(response, **kwargs)

    def checkpoint(
        self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]
    ) -> Optional[int]:
        began = self.context.first_answers.of(type(self))
        if newest_seen is None or began is None:
            return newest_seen
        return min(newest_seen, began - self.context.config.edits_lookback_minutes * 60)
