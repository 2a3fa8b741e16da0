"""The activity log of people changes, and the order it shares with the generated activities.

Every activity has an order key, an integer that sorts as its id does: the timestamp in the high
bits, then a generated activity's index, or for a logged change CHANGE_MARK plus its number in the
log. So the changes of a second sort after (newest first: before) that second's generated
activities, in the order they were made, and one cursor can page through both.
"""

from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

INDEX_BITS = 48  # generated indexes and change numbers stay below 2**48
CHANGE_MARK = 1 << INDEX_BITS
TIMESTAMP_SHIFT = INDEX_BITS + 1


def generated_key(timestamp: int, index: int) -> int:
    return timestamp << TIMESTAMP_SHIFT | index


def change_key(timestamp: int, number: int) -> int:
    return timestamp << TIMESTAMP_SHIFT | CHANGE_MARK | number


def key_timestamp(key: int) -> int:
    return key >> TIMESTAMP_SHIFT


def generated_index(key: int) -> Optional[int]:
    """The generated activity a key belongs to; None for a logged change's key."""
    return None if key & CHANGE_MARK else key & (CHANGE_MARK - 1)


def change_id(timestamp: int, number: int) -> str:
    """Like a generated id (`01{timestamp:012X}{index:012X}`), with F where an index starts with 0: the
    ids sort as the keys do."""
    return f"01{timestamp:012X}F{number:011X}"


class LoggedChange(NamedTuple):
    key: int
    person: int  # the workspace's index of the person it happened to
    record: Dict[str, Any]  # the activity as GET /v1/activities lists it


class ChangeLog:
    """Logged changes, oldest first, in all and by type. Only appended to (under the workspace's lock):
    a reader takes a list's length once and reads below it, whatever is appended meanwhile."""

    def __init__(self) -> None:
        self._all: List[LoggedChange] = []
        self._by_type: Dict[str, List[LoggedChange]] = {}

    def log(
        self, person: int, identifiers: Mapping[str, Optional[str]], activity_type: str, timestamp: int, data: Any
    ) -> None:
        number = len(self._all)
        record = {
            "id": change_id(timestamp, number),
            "customer_id": identifiers["id"],
            "customer_identifiers": dict(identifiers),
            "type": activity_type,
            "timestamp": timestamp,
            "delivery_id": None,
            "delivery_type": None,
            "data": data,
        }
        entry = LoggedChange(change_key(timestamp, number), person, record)
        self._by_type.setdefault(activity_type, []).append(entry)
        self._all.append(entry)

    def entries(self, activity_type: Optional[str] = None) -> Sequence[LoggedChange]:
        """The logged changes of one type (None: all), oldest first."""
        return self._all if activity_type is None else self._by_type.get(activity_type, [])
