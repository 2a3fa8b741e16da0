"""Incremental people: which sync reads everyone, and who changed since the last one.

Customer.io has no "changed since" filter for people, but its activity log records the changes of a
profile. A later sync reads those types from the saved cursor less a lookback, collects the people
they name and reads them again; a person the API no longer has is emitted as a deletion. The log is
kept for 30 days, and some changes (imports, Data Pipelines) may not be logged: then, and every
`customers.full_read_every_days`, the sync reads everyone.
"""

import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

DAY = 86400
# GET /v1/activities guarantees 30 days of history.
LOG_HORIZON_SECONDS = 30 * DAY
# A saved cursor this close to the horizon is treated as past it: the sync itself takes time, and
# the oldest day of the log is the first to go.
HORIZON_MARGIN_SECONDS = DAY

# The activity types that change what a `customers` record holds (identifiers, attributes,
# `unsubscribed`, devices), with what each means for the person. Relationship types are left out:
# the record does not hold relationships (`object_relationships` does).
PROFILE_CHANGE_TYPES: Mapping[str, str] = {
    "profile_create": "the person was added",
    "attribute_change": "an attribute (identifiers included) was set, changed or removed",
    "device_change": "a device was added, updated or removed",
    "profile_merge": "another person was merged into this one (attributes, devices); the other is gone",
    "anon_merge": "anonymous activity, and the traits sent with it, was merged into the person",
    "profile_delete": "the person was deleted",
    "unsubscribed_email": "the person unsubscribed from a message (`unsubscribed`)",
    "unsubscribed_action": "the person unsubscribed from a message action (`unsubscribed`)",
    "topic_unsubscribed_email": "the person left a subscription topic (their subscription preferences)",
}
# Read with deleted=true as well: a deleted person's activities may be listed only there (the
# reference leaves open whether deleted=true adds them or returns only them). One type suffices:
# every deletion logs a profile_delete, and hydrating the person finds them gone.
DELETED_PEOPLE_TYPES = ("profile_delete",)
MERGE_TYPES = ("profile_merge", "anon_merge")

FULL_READ = "full_read"  # series of a read of everyone: its cursor is when that read began
CHANGES = "changes"  # series of a read of the log: its cursor is when that read began


def change_chains() -> List[Tuple[str, bool]]:
    """The (type, deleted) listings a read of changes follows, each its own chain of pages."""
    return [(kind, False) for kind in PROFILE_CHANGE_TYPES] + [(kind, True) for kind in DELETED_PEOPLE_TYPES]


def deletion_chains() -> List[Tuple[str, bool]]:
    """The listings that name people who are gone: what a full read of an incremental sync also reads,
    so that a deletion since the last sync is not lost when everyone is read again."""
    return [(kind, deleted) for kind, deleted in change_chains() if kind in DELETED_PEOPLE_TYPES + ("profile_merge",)]


def plain_cio_id(value: Any) -> Optional[str]:
    """A cio_id as POST /v1/customers/attributes?id_type=cio_id wants it: without the `cio_` prefix
    that /v1/activities?customer_id= asks for."""
    if value in (None, ""):
        return None
    text = str(value)
    return text[len("cio_") :] if text.startswith("cio_") else text


def cio_ids_in(value: Any) -> Iterator[str]:
    """Every `cio_id` anywhere in a merge's `data` (the person merged away; the reference gives no shape)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = plain_cio_id(item) if key == "cio_id" and not isinstance(item, (Mapping, list)) else None
            if found:
                yield found
            else:
                yield from cio_ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from cio_ids_in(item)


def people_named(activity: Mapping[str, Any]) -> List[str]:
    """The cio_ids of the people an activity says changed: its person, and for a merge the other."""
    named = [plain_cio_id((activity.get("customer_identifiers") or {}).get("cio_id"))]
    if activity.get("type") in MERGE_TYPES:
        named += cio_ids_in(activity.get("data"))
    return [cio_id for cio_id in dict.fromkeys(named) if cio_id]


def people_gone(activity: Mapping[str, Any]) -> List[str]:
    """The cio_ids an activity says are gone: a deleted person, or the people merged into another."""
    if activity.get("type") in DELETED_PEOPLE_TYPES:
        return people_named(activity)
    if activity.get("type") in MERGE_TYPES:
        kept = plain_cio_id((activity.get("customer_identifiers") or {}).get("cio_id"))
        return [cio_id for cio_id in dict.fromkeys(cio_ids_in(activity.get("data"))) if cio_id != kept]
    return []


@dataclass(frozen=True)
class PeopleRead:
    """What a sync of `customers` reads: everyone (`changes_since` None), or the people the log shows
    changed from `changes_since` on. Reading everyone with a saved state, it also reads the deletions
    the log shows from `deletions_since` on. `reason` says why, for the log."""

    changes_since: Optional[int]
    reason: str
    deletions_since: Optional[int] = None


def moment(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_people_read(
    saved: Mapping[Optional[str], int],
    now: int,
    lookback_seconds: int,
    full_read_every_days: int,
    filtered: bool,
) -> PeopleRead:
    """Everyone, or the changes since the saved cursor less the lookback (see the module doc)."""
    full_read_at = saved.get(FULL_READ)
    if full_read_at is None:
        return PeopleRead(None, "no full read is saved, so everyone is read")
    read_to = max(full_read_at, saved.get(CHANGES, full_read_at))
    since = read_to - lookback_seconds
    deletions_since = max(since, now - LOG_HORIZON_SECONDS)
    if filtered:
        return PeopleRead(
            None,
            "`customers.filter` is set, and the activity log cannot tell who joined or left the filtered "
            "people, so everyone the filter selects is read",
            deletions_since,
        )
    if since < now - LOG_HORIZON_SECONDS + HORIZON_MARGIN_SECONDS:
        return PeopleRead(
            None,
            f"the saved state reaches back to {moment(since)}, beyond the 30 days (less a day) Customer.io keeps "
            "in its activity log, so changes may be missing from the log: everyone is read, and the deletions "
            "the log still shows; people deleted before it do not leave the destination (clear the stream's data "
            "to rebuild it)",
            deletions_since,
        )
    if full_read_every_days and now - full_read_at >= full_read_every_days * DAY:
        return PeopleRead(
            None,
            f"the last full read began {moment(full_read_at)}, {full_read_every_days} or more days ago "
            "(`customers.full_read_every_days`), so everyone is read to catch changes the log does not show",
            deletions_since,
        )
    return PeopleRead(since, f"reading the people the activity log shows changed since {moment(since)}")


class ChainFailed(Exception):
    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


_CHAIN_DONE = object()


def merged_in_parallel(chains: Sequence[Callable[[], Iterable[str]]], workers: int) -> Iterator[str]:
    """The values every chain yields, each once, as the chains run side by side on `workers` threads.
    A chain's error is raised here once the others have stopped (they stop at their next value)."""
    found: "queue.Queue[Any]" = queue.Queue()
    stop = threading.Event()

    def run(chain: Callable[[], Iterable[str]]) -> None:
        try:
            for value in chain():
                if stop.is_set():
                    return
                found.put(value)
        except BaseException as error:  # handed to the reading thread, which raises it
            found.put(ChainFailed(error))
        finally:
            found.put(_CHAIN_DONE)

    seen = set()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chains)))) as pool:
        for chain in chains:
            pool.submit(run, chain)
        running = len(chains)
        try:
            while running:
                item = found.get()
                if item is _CHAIN_DONE:
                    running -= 1
                elif isinstance(item, ChainFailed):
                    raise item.error
                elif item not in seen:
                    seen.add(item)
                    yield item
        finally:
            stop.set()
