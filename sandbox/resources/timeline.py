"""Lazy, time-ordered record sequences: index → time and page arithmetic, nothing materialised.

Item i of a `Timeline` happens at `origin + i * span // count`: `count` items spread over `span`
seconds, and the sequence goes on past them, so moving the clock reveals new items. A
`Selection` keeps the indexes whose residue modulo `period` is listed (a channel, a type, people
who are not deleted), so a filtered list is still pure arithmetic. `newest_first_page` pages with a
keyset cursor (the exclusive upper index), which stays correct while the clock moves.
"""

from bisect import bisect_left
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple


@dataclass(frozen=True)
class Timeline:
    origin: int
    span: int
    count: int

    def time(self, index: int) -> int:
        return self.origin + index * self.span // self.count

    def first_at_or_after(self, moment: int) -> int:
        """The first index whose time is >= moment."""
        return max(0, -((self.origin - moment) * self.count // self.span))

    def between(self, start: int, end: int) -> Tuple[int, int]:
        """The index range [lo, hi) of the items timed start..end (inclusive)."""
        lo, hi = self.first_at_or_after(start), self.first_at_or_after(end + 1)
        return lo, max(lo, hi)


@dataclass(frozen=True)
class Selection:
    period: int
    residues: Tuple[int, ...]  # sorted

    @classmethod
    def where(cls, period: int, keep) -> "Selection":
        return cls(period, tuple(r for r in range(period) if keep(r)))

    def rank(self, index: int) -> int:
        """How many selected indexes lie below `index`."""
        return (index // self.period) * len(self.residues) + bisect_left(self.residues, index % self.period)

    def index(self, rank: int) -> int:
        return (rank // len(self.residues)) * self.period + self.residues[rank % len(self.residues)]

    def indexes(self, lo: int, hi: int) -> List[int]:
        """Every selected index in [lo, hi), oldest first."""
        if not self.residues:
            return []
        return [self.index(rank) for rank in range(self.rank(lo), self.rank(hi))]


def newest_first_page(
    selection: Selection, lo: int, hi: int, upper: Optional[int], limit: int
) -> Tuple[Sequence[int], Optional[int]]:
    """One page of the selected indexes in [lo, hi), newest first, starting below `upper` (None:
    from the top). Returns the page and the next page's `upper`, or None after the last page."""
    if not selection.residues:
        return [], None
    top = selection.rank(hi if upper is None else min(hi, upper))
    bottom = max(selection.rank(lo), top - limit)
    page = [selection.index(rank) for rank in range(top - 1, bottom - 1, -1)]
    return page, (page[-1] if page and bottom > selection.rank(lo) else None)
