"""People, read by either of Customer.io's two ways (`customers.method`); same record shape.

search: POST /v1/customers pages through the people the filter selects (1000 a page). Their
attributes come from POST /v1/customers/attributes?id_type=cio_id, 100 people a request whatever
identifiers the workspace uses (every person has a cio_id), one slice per batch so batches are read
concurrently. About 11 requests per 1000 people.

Incremental (append-deduped on cio_id): the first sync reads everyone by the configured method; later
syncs read the people the activity log shows changed (source_customerio.people_changes), 100 at a time
by cio_id, and emit a person the API no longer has as a deletion (`_ab_cdc_deleted_at`). Every record
carries `_ab_cdc_updated_at`, when its sync began, so a later sync's record of a person wins.

export: POST /v1/exports/customers (never sent blindly twice: after a failed create the export list
is checked for the export it may have made), poll GET /v1/exports/{id} until done, then
GET /v1/exports/{id}/download gives a signed link (15 minutes) to a CSV file, fetched without
the key and read row by row; a download cut off is fetched again from a fresh link, skipping the
rows already emitted.
"""

import itertools
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, MutableMapping, Optional, Sequence, Tuple

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.http_client import HttpClient
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_customerio import people_changes, windows
from source_customerio.errors import NoBlindRetryErrorHandler, RetryLedger
from source_customerio.export_file import ExportFileError, open_text, read_customers_csv, select_attributes
from source_customerio.people_changes import CHANGES, FULL_READ, plan_people_read
from source_customerio.responses import json_body
from source_customerio.streams.activities import ActivitiesStream
from source_customerio.streams.base import CursorPaginatedStream, CustomerioStream, StreamContext
from source_customerio.sync_state import Cursors, SeriesName

EVERYONE = {"attribute": {"field": "cio_id", "operator": "exists"}}
BATCH_SIZE = 100
FIRST_POLL_SECONDS = 0.25
MAX_POLL_SECONDS = 30.0
DOWNLOAD_CHUNK_BYTES = 1 << 16
PROGRESS_EVERY_ROWS = 100_000
LEFT_OUT_SAMPLE = 5
EXPORT_CREATE_ATTEMPTS = 3
DOWNLOAD_ATTEMPTS = 4
FIRST_DOWNLOAD_RETRY_SECONDS = 2.0


def audience(customers_filter: Optional[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The filter to send: `customers.filter`, or everyone (every person has a cio_id)."""
    return customers_filter or EVERYONE


# -- search ---------------------------------------------------------------------------------------
def attribute_slices(cio_ids: Iterable[str], batch_size: int = BATCH_SIZE) -> Iterator[Dict[str, Any]]:
    """Slices for people, lazily: `{"ids": [...]}` batches of up to `batch_size` cio_ids (every
    person has one; many have no `id`)."""
    batch: List[str] = []
    for cio_id in cio_ids:
        batch.append(cio_id)
        if len(batch) == batch_size:
            yield {"ids": batch}
            batch = []
    if batch:
        yield {"ids": batch}


def cio_ids_of(people: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The cio_ids of searched people, lazily (every person has one; many have no `id`)."""
    return (str(person["cio_id"]) for person in people)


def customers_in(body: Mapping[str, Any]) -> List[MutableMapping[str, Any]]:
    """The `customer` objects of a batch answer (`{"customers": [{"customer": {...}}]}`)."""
    return [item.get("customer", item) for item in body.get("customers") or []]


def identifier(customer: Mapping[str, Any], name: str) -> Optional[str]:
    """An identifier from `identifiers`, or from `attributes`, which holds them too."""
    value = (customer.get("identifiers") or {}).get(name) or (customer.get("attributes") or {}).get(name)
    return str(value) if value not in (None, "") else None


def left_out_ids(requested: Sequence[str], customers: Iterable[Mapping[str, Any]]) -> List[str]:
    """The requested cio_ids the batch answer does not contain (people deleted since the search)."""
    returned = {identifier(customer, "cio_id") for customer in customers}
    return [person_id for person_id in requested if person_id not in returned]


UPDATED_AT = "_ab_cdc_updated_at"
DELETED_AT = "_ab_cdc_deleted_at"
GONE = "_gone"  # marks a requested person the batch answer left out


def deletion_record(cio_id: str, read_began: int) -> Dict[str, Any]:
    """The record saying a person is gone. Its cursor is a second newer than the records of its sync,
    so it also wins over a record of the person that a full read emitted before the deletion."""
    return {
        "cio_id": cio_id,
        "id": None,
        "email": None,
        "attributes": None,
        "unsubscribed": None,
        "devices": None,
        "timestamps": None,
        UPDATED_AT: read_began + 1,
        DELETED_AT: read_began,
    }


def stamped_with_deletions(
    rows: Iterable[MutableMapping[str, Any]], gone: Iterable[str], read_began: int
) -> Iterator[MutableMapping[str, Any]]:
    """An export file's rows stamped with the read's cursor, then a deletion for each person the log
    showed gone that the file does not hold (the export is the check a batch read is for search)."""
    missing: Dict[Any, None] = dict.fromkeys(gone)
    for row in rows:
        row[UPDATED_AT] = read_began
        missing.pop(row.get("cio_id"), None)
        yield row
    for cio_id in missing:
        yield deletion_record(cio_id, read_began)


def customer_record(customer: Mapping[str, Any], names: Sequence[str]) -> Dict[str, Any]:
    return {
        "cio_id": identifier(customer, "cio_id"),
        "id": identifier(customer, "id"),
        "email": identifier(customer, "email"),
        "attributes": select_attributes(customer.get("attributes") or {}, names),
        "unsubscribed": customer.get("unsubscribed"),
        "devices": customer.get("devices"),
        "timestamps": customer.get("timestamps"),
    }


class CustomerSearch(CursorPaginatedStream):
    """POST /v1/customers: the identifiers of the people the filter selects. The listing
    `CustomersBySearch` reads lazily, page by page; not a stream of its own."""

    primary_key = "cio_id"
    http_method = "POST"
    data_field = "identifiers"
    path_template = "customers"
    page_size = 1000

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"filter": audience(self.context.config.customers_filter)}

    def parse_response(self, response: requests.Response, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        self.note_answer(response, Customers)
        yield from super().parse_response(response, **kwargs)


class ProfileChangeLog(ActivitiesStream):
    """GET /v1/activities of one profile-change type, newest first, back to the read's start; not a
    stream of its own."""

    def __init__(self, context: StreamContext, since: int):
        self.since = since
        super().__init__(context, (None,))

    def stop_bound(self, activity_type: SeriesName) -> Optional[int]:
        return self.since

    def keep(self, record: Mapping[str, Any], stream_slice: Mapping[str, Any]) -> bool:
        """The changes since the read's start: the last page read also lists older ones."""
        stamp = record.get(self.cursor_field)
        return not isinstance(stamp, int) or stamp >= self.since

    def parse_response(self, response: requests.Response, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        self.note_answer(response, Customers)
        yield from super().parse_response(response, **kwargs)


class Customers(CustomerioStream):
    """What both methods share: the name, the key, the schema, the incremental reads."""

    name = "customers"
    primary_key = "cio_id"
    cursor_field = UPDATED_AT
    state_per_series = True  # when the last full read began, and when the last read of changes began
    checkpoint_from_records = False
    long_chain = True
    slices_need_requests = True  # the search's pages, or the export's wait, come before any slice

    deletions_since: Optional[int] = None  # a full read of an incremental sync: the log's deletions from then

    def read_began(self) -> int:
        """When this sync's first answer about people came, by the API's clock: the cursor of every record."""
        began = self.context.first_answers.of(Customers)
        return windows.current_time() if began is None else began

    def for_incremental_read(self, saved: Cursors) -> CustomerioStream:
        config = self.context.config
        read = plan_people_read(
            saved,
            windows.current_time(),
            config.customers_lookback_minutes * 60,
            config.customers_full_read_every_days,
            filtered=config.customers_filter is not None,
        )
        self.logger.info(f"Stream `{self.name}`: {read.reason}.")
        if read.changes_since is not None:
            return CustomerChanges(self.context, read.changes_since)
        self.deletions_since = read.deletions_since
        return self

    def people_in_log(
        self, chains: Sequence[Tuple[str, bool]], since: int, named: Callable[[Mapping[str, Any]], List[str]]
    ) -> Iterator[str]:
        """The people `named` finds in the activities of `chains` since `since`, once each; the chains
        are read at once."""

        def chain(kind: str, deleted: bool) -> Callable[[], Iterator[str]]:
            def people() -> Iterator[str]:
                log = ProfileChangeLog(self.context, since)
                for activity in log.records_outside_a_sync({"type": kind, "deleted": deleted}):
                    yield from named(activity)

            return people

        readers = [chain(kind, deleted) for kind, deleted in chains]
        return people_changes.merged_in_parallel(readers, self.context.config.max_concurrent_requests)

    def people_gone_since(self, since: int) -> Iterator[str]:
        return self.people_in_log(people_changes.deletion_chains(), since, people_changes.people_gone)

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName:
        return FULL_READ

    def checkpoint(
        self, series: SeriesName, stream_slice: Mapping[str, Any], newest_seen: Optional[int]
    ) -> Optional[int]:
        return self.read_began()


class CustomersBySearch(Customers):
    http_method = "POST"
    path_template = "customers/attributes"

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        # Page by page on this thread, and no schema needed.
        everyone = attribute_slices(cio_ids_of(CustomerSearch(self.context).records_outside_a_sync({})))
        if self.deletions_since is None:
            return everyone
        # The people the log shows gone are read again too: the API leaves them out, so they become deletions.
        return itertools.chain(everyone, attribute_slices(self.people_gone_since(self.deletions_since)))

    fixed_params = {"id_type": "cio_id"}

    def slice_body(self, stream_slice: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"ids": stream_slice["ids"]}

    def extract_records(self, body: Mapping[str, Any]) -> List[MutableMapping[str, Any]]:
        return customers_in(body)

    def page_records(
        self, response: requests.Response, stream_slice: Mapping[str, Any]
    ) -> List[MutableMapping[str, Any]]:
        customers = super().page_records(response, stream_slice)
        missing = left_out_ids(stream_slice["ids"], customers)
        if missing and self.reads_incrementally:  # incremental: the destination learns they are gone
            return customers + [{GONE: cio_id} for cio_id in missing]
        if missing:
            self.logger.warning(
                f"Customer.io left {len(missing)} of the {len(stream_slice['ids'])} requested ids out of its "
                "attributes answer (deleted since the search?), so they are not in this sync; first ids: "
                f"{', '.join(missing[:LEFT_OUT_SAMPLE])}"
            )
        return customers

    def transform(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        if GONE in record:
            return deletion_record(record[GONE], self.read_began())
        return {**customer_record(record, self.context.config.customers_attributes), UPDATED_AT: self.read_began()}


class CustomerChanges(CustomersBySearch):
    """An incremental read of the people the activity log shows changed: each profile-change type is
    a chain of pages, the chains read at once on the slice-making thread; their people, once each,
    are read 100 at a time as they are found."""

    def __init__(self, context: StreamContext, since: int):
        self.since = since
        super().__init__(context)

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        changed = self.people_in_log(people_changes.change_chains(), self.since, people_changes.people_named)
        return attribute_slices(changed)

    def series_of(self, stream_slice: Mapping[str, Any]) -> SeriesName:
        return CHANGES

    def checkpoint_of_empty_read(self) -> Optional[Tuple[SeriesName, int]]:
        return CHANGES, self.read_began()


# -- export ---------------------------------------------------------------------------------------
def export_error(message: str, failure_type: FailureType = FailureType.system_error) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=failure_type)


def poll_delays(first: float = FIRST_POLL_SECONDS, longest: float = MAX_POLL_SECONDS) -> Iterator[float]:
    """Seconds to wait between status polls: doubling from `first`, then every `longest`."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, longest)


def wait_for_export(
    read_export: Callable[[], Mapping[str, Any]],
    deadline_minutes: float,
    log: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Mapping[str, Any]:
    """Poll until the export is done (return it), failed, or past the deadline (raise)."""
    started = clock()
    deadline = deadline_minutes * 60
    delays = poll_delays()
    while True:
        export = read_export()
        status = export.get("status")
        if export.get("failed") or status == "failed":
            raise export_error(
                f"Customer.io reports customers export {export.get('id')} as failed and gives no reason. Run the sync "
                "again; if it keeps failing, check `customers.filter` or use `customers.method` search."
            )
        if status == "done":
            return export
        waited = clock() - started
        if waited >= deadline:
            raise export_error(
                f"Customer.io's customers export {export.get('id')} was still {status} after {deadline_minutes:g} "
                "minutes. Raise `customers.export_timeout_minutes`, or use `customers.method` search.",
                FailureType.config_error,
            )
        delay = min(next(delays), deadline - waited)
        log(
            f"Customer.io customers export {export.get('id')} is {status} after {waited:.0f} s; checking again in "
            f"{delay:.2g} s."
        )
        sleep(delay)


class DownloadCutOff(Exception):
    """The export file could not be fetched or was cut off; a fresh link may succeed."""


def newest_export_id(exports: Iterable[Mapping[str, Any]]) -> int:
    return max((int(export.get("id") or 0) for export in exports), default=0)


def export_made_since(exports: Iterable[Mapping[str, Any]], newest_before: int) -> Optional[Mapping[str, Any]]:
    """The first customers export listed after `newest_before` that has not failed: the one a create
    whose answer was lost made."""
    made = [
        export
        for export in exports
        if export.get("type") == "customers" and int(export.get("id") or 0) > newest_before and not export.get("failed")
    ]
    return min(made, key=lambda export: int(export["id"])) if made else None


def download_customers(
    url: str, names: Sequence[str], timeout: float, progress: Callable[[int], None]
) -> Iterator[Dict[str, Any]]:
    """Customer records from a signed export link, streamed; DownloadCutOff when the transfer fails.

    A plain session: the signed link authenticates itself, and the App API key must never go
    anywhere but the API (storage refuses a request carrying a second credential anyway).
    """
    rows = 0
    try:
        with requests.Session() as session, session.get(url, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise DownloadCutOff(f"HTTP {response.status_code}: {response.text[:200]}")
            for record in read_customers_csv(open_text(response.iter_content(DOWNLOAD_CHUNK_BYTES)), names):
                yield record
                rows += 1
                if rows % PROGRESS_EVERY_ROWS == 0:
                    progress(rows)
    except (requests.RequestException, OSError, EOFError) as error:
        raise DownloadCutOff(f"{type(error).__name__}: {error}") from error
    except ExportFileError as error:
        raise export_error(f"Customer.io's customers export file cannot be read: {error}.") from error
    progress(rows)


def download_with_retries(
    links: Iterator[str],
    download: Callable[[str], Iterator[Dict[str, Any]]],
    log: Callable[[str], None],
    attempts: int = DOWNLOAD_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Dict[str, Any]]:
    """Every record of the export file once: a transfer cut off is started again from the next link
    (links expire), and the rows already emitted are skipped (the file of an export does not change)."""
    emitted = 0
    for attempt in range(1, attempts + 1):
        try:
            for row, record in enumerate(download(next(links))):
                if row >= emitted:
                    yield record
                    emitted += 1
            return
        except DownloadCutOff as error:
            if attempt == attempts:
                raise export_error(
                    f"Downloading the customers export file failed {attempts} times, the last after {emitted} rows "
                    f"({error}). Run the sync again.",
                    FailureType.transient_error,
                ) from error
            wait = FIRST_DOWNLOAD_RETRY_SECONDS * 2 ** (attempt - 1)
            log(
                f"Downloading the customers export file failed after {emitted} rows ({error}); fetching it again in "
                f"{wait:g} s from a fresh link (attempt {attempt + 1} of {attempts}), skipping the rows already read."
            )
            sleep(wait)


class CustomersByExport(Customers):
    """One slice: the finished export. Its request is the download-link call; its records come from the file."""

    path_template = "exports/{export_id}/download"

    def __init__(self, context: StreamContext):
        super().__init__(context)
        self.gone: List[str] = []  # the people the log shows gone since the last sync
        self._api = self.api_client(self.get_error_handler())
        self._api_without_blind_retries = self.api_client(
            NoBlindRetryErrorHandler(
                self.logger,
                ledger=RetryLedger(self.retry_ledger.max_rate_limit_wait_seconds),
                stream_name=self.name,
            )
        )

    def api_client(self, error_handler) -> HttpClient:
        """A client for the calls around the export, with the stream's key, rate budget and backoff."""
        return HttpClient(
            name=self.name,
            logger=self.logger,
            error_handler=error_handler,
            api_budget=self.context.budget,
            authenticator=self.context.authenticator,
            backoff_strategy=self.get_backoff_strategy(),
        )

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        config = self.context.config
        # Read before the export is made: a person deleted since is then gone from the file too.
        self.gone = [] if self.deletions_since is None else list(self.people_gone_since(self.deletions_since))
        body: Dict[str, Any] = {"filters": audience(config.customers_filter)}
        if config.customers_attributes:
            body["attributes"] = list(config.customers_attributes)
        export_id = self.create_export(body)
        self.logger.info(
            f"Customer.io customers export {export_id} created; waiting for it (at most "
            f"{config.export_timeout_minutes} minutes)."
        )
        export = wait_for_export(
            lambda: self._call("GET", f"exports/{export_id}")["export"], config.export_timeout_minutes, self.logger.info
        )
        yield {"export_id": export_id, "total": export.get("total")}

    def create_export(self, body: Mapping[str, Any]) -> int:
        """POST /v1/exports/customers, never blindly twice: a create that failed may still have made the
        export, so before trying again the export list is checked for one made since."""
        newest_before = newest_export_id(self._call("GET", "exports")["exports"])
        for attempt in range(1, EXPORT_CREATE_ATTEMPTS + 1):
            try:
                return self._call("POST", "exports/customers", body, self._api_without_blind_retries)["export"]["id"]
            except AirbyteTracedException as failure:
                if failure.failure_type != FailureType.transient_error or attempt == EXPORT_CREATE_ATTEMPTS:
                    raise
                made = export_made_since(self._call("GET", "exports")["exports"], newest_before)
                if made is not None:
                    self.logger.info(
                        f"Creating the customers export failed ({failure.message}), but Customer.io lists export "
                        f"{made['id']} made since; using it rather than making another."
                    )
                    return int(made["id"])
                self.logger.info(
                    f"Creating the customers export failed ({failure.message}) and Customer.io lists no export made "
                    f"since; creating it again (attempt {attempt + 1} of {EXPORT_CREATE_ATTEMPTS})."
                )
        raise AssertionError("unreachable: the last attempt returns or raises")

    def parse_response(
        self, response: requests.Response, *, stream_state=None, stream_slice=None, **kwargs
    ) -> Iterable[Mapping[str, Any]]:
        export_id, total = stream_slice["export_id"], stream_slice["total"]
        config = self.context.config

        def progress(rows: int) -> None:
            of_total = f" of {total}" if total else ""
            self.logger.info(f"Customer.io customers export {export_id}: {rows}{of_total} rows read.")

        def links() -> Iterator[str]:
            yield json_body(response)["url"]
            while True:  # a link lives 15 minutes: each new attempt asks for a fresh one
                yield self._call("GET", f"exports/{export_id}/download")["url"]

        rows = download_with_retries(
            links(),
            lambda url: download_customers(url, config.customers_attributes, config.request_timeout_seconds, progress),
            self.logger.info,
        )
        yield from stamped_with_deletions(rows, self.gone, self.read_began())

    def _call(
        self, method: str, path: str, body: Optional[Mapping[str, Any]] = None, client: Optional[HttpClient] = None
    ) -> Mapping[str, Any]:
        """One API call with the stream's key, error table and rate budget."""
        _, response = (client or self._api).send_request(
            method, f"{self.url_base}{path}", request_kwargs=self.request_kwargs(stream_state=None), json=body
        )
        self.note_answer(response, Customers)
        return json_body(response)


CUSTOMERS_STREAM_OF_METHOD = {"search": CustomersBySearch, "export": CustomersByExport}


def customers_stream(context: StreamContext) -> Customers:
    """The customers stream for the configured `customers.method`."""
    return CUSTOMERS_STREAM_OF_METHOD[context.config.customers_method](context)
