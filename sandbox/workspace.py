"""The sandbox's workspace: knobs, a controllable clock, and deterministic data.

Every record is a pure function of (seed, kind, index) and the clock, so a test can ask the
workspace for exactly what the API serves, and scale goes to millions without holding them.
"""

import hashlib
import random
import threading
from dataclasses import dataclass
from typing import Any, Dict, Optional

DAY = 86400
# The sandbox's "now" unless a test moves it: a fixed moment keeps data the same on every day.
DEFAULT_NOW = 1793491200
TOPICS = (
    "welcome",
    "onboarding",
    "trial",
    "renewal",
    "winback",
    "digest",
    "promo",
    "survey",
    "alert",
    "nurture",
)  # 2026-11-01T00:00:00Z


@dataclass
class Knobs:
    """Sizes of the generated workspace. Tests keep them small; benchmarks raise them."""

    seed: int = 7
    campaigns: int = 12
    segments: int = 8
    newsletters: int = 230
    people: int = 300
    email_only_share: float = 1 / 17  # people with no `id`, spread evenly (1/17: every 17th)
    messages: int = 3000  # deliveries over message_history_days before the default clock
    message_history_days: int = 730
    activities: int = 1500  # over the 30 days before the default clock
    # The reference documents neither the order of GET /v1/activities nor whether deleted=true adds
    # deleted people's activities or returns only theirs: the sandbox can serve each reading.
    activities_order: str = "newest_first"  # or "oldest_first"
    activities_deleted: str = "adds"  # deleted=true: "adds" deleted people's activities, or "only" theirs
    export_pending_polls: int = 2  # status polls a customers export answers "pending" before it settles
    export_final_status: str = "done"  # what it settles to: done or failed
    export_link_seconds: int = 900  # lifetime of a signed download link
    export_compression: str = "gzip"  # export file: gzip or none
    broadcasts: int = 7
    transactional_messages: int = 5
    sender_identities: int = 130  # two pages of 100 visible, a few hidden
    objects: int = 45  # of the first object type; the second has a third as many
    suppressions: int = 1100  # bounces; the other ESP lists are smaller (spam reports: none)


class Workspace:
    def __init__(self, knobs: Optional[Knobs] = None, now: int = DEFAULT_NOW):
        self.knobs = knobs or Knobs()
        self._now = now
        self._lock = threading.Lock()

    # -- the clock -------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self._now

    def advance(self, seconds: int) -> None:
        """Move the clock forward: records dated up to the new now become visible."""
        with self._lock:
            self._now += seconds

    # -- determinism -----------------------------------------------------------------------
    def rng(self, kind: str, index: Any) -> random.Random:
        return random.Random(f"{self.knobs.seed}:{kind}:{index}")

    def fraction(self, kind: str, index: Any) -> float:
        """A fast deterministic number in [0, 1) for hot paths (one hash, no Random object)."""
        digest = hashlib.blake2b(f"{self.knobs.seed}:{kind}:{index}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    # -- people (identifiers only; attributes live with the customers resource) ------------
    def person_ids(self, index: int) -> Dict[str, Optional[str]]:
        """`email_only_share` of the people have no `id` (email-identified workspaces); every 23rd has no email."""
        share = self.knobs.email_only_share
        email_only = int((index + 1) * share + 1e-9) > int(index * share + 1e-9)
        return {
            "email": None if index % 23 == 22 else f"person{index}@example.com",
            "id": None if email_only else str(100000 + index),
            "cio_id": f"{0x3000000 + index:x}",
        }

    def person_index(self, cio_id: str) -> Optional[int]:
        try:
            index = int(cio_id, 16) - 0x3000000
        except ValueError:
            return None
        return index if 0 <= index < self.knobs.people else None

    # -- segments and membership -----------------------------------------------------------
    SEGMENT_MODULI = (1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31)

    def segment_rule(self, segment_id: int) -> Dict[str, int]:
        """Segment n holds the people whose index ≡ rest (mod modulus): enumerable without scans."""
        modulus = self.SEGMENT_MODULI[(segment_id - 1) % len(self.SEGMENT_MODULI)]
        return {"modulus": modulus, "rest": (segment_id * 7) % modulus}

    def segment_member_indexes(self, segment_id: int) -> range:
        rule = self.segment_rule(segment_id)
        return range(rule["rest"], self.knobs.people, rule["modulus"])

    def in_segment(self, index: int, segment_id: int) -> bool:
        if not 1 <= segment_id <= self.knobs.segments:
            return False
        rule = self.segment_rule(segment_id)
        return index % rule["modulus"] == rule["rest"]
