"""Small record transforms shared by several streams."""

from typing import Iterable, MutableMapping


def integer_ids(record: MutableMapping, fields: Iterable[str]) -> MutableMapping:
    """Turn ids that arrive as digit strings ("42") into integers, so keys compare across syncs."""
    for name in fields:
        value = record.get(name)
        if isinstance(value, str) and value.isdigit():
            record[name] = int(value)
    return record
