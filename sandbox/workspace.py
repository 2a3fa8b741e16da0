"""The sandbox's workspace: knobs, a controllable clock, and deterministic data.

Every record is a pure function of (seed, kind, index) and the clock, so a test can ask the
workspace for exactly what the API serves, and scale goes to millions without holding them.
"""

import hashlib
import random
import threading
from dataclasses import dataclass, fields, replace
from typing import Any, Dict, MutableMapping, Optional, Tuple

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
    activity_backdate_max_seconds: int = 3000  # with Live.backdated_activities: the longest processing delay


@dataclass(frozen=True)
class Live:
    """Where live accounts and the reference disagree (the API notes' "Live observations"): True
    answers as live accounts do, the default; False as the reference says."""

    # GET /v1/sender_identities?hidden=true lists only hidden senders, without `hidden` only visible
    # ones; every page carries a `next`, and the page after the last is empty with next "".
    # Reference: hidden=true lists the visible senders too, and the last page has next "".
    senders_hidden_only: bool = True
    # Empty lists are null where live accounts showed it: segment membership, people search, ESP
    # suppressions (then without "category"), messages. Reference: [].
    null_empty_lists: bool = True
    # POST /v1/customers/attributes items come unwrapped. Reference: each wrapped in {"customer": ...}.
    unwrapped_batch_attributes: bool = True
    # The other region's host answers 401, as for a bad key. Reference: a 3xx redirect.
    wrong_region_401: bool = True
    # Campaign and broadcast action `id`s are JSON strings ("18"). Reference: integers.
    string_action_ids: bool = True
    # `data.opened` of opened_* activities is the open time (epoch seconds), with client details.
    # Reference: a boolean.
    opened_as_epoch: bool = True
    # About 1 in 11 activities is processed (listed) up to `Knobs.activity_backdate_max_seconds`
    # after its timestamp. Reference: listed from its timestamp on.
    backdated_activities: bool = True
    # Deliveries carry `msg_template_id` and `transactional_message_id`, some email metrics a key the
    # reference does not list (`secondary:delivered`), and a deleted person's deliveries only `cio_id`.
    live_message_fields: bool = True

    @classmethod
    def reference(cls) -> "Live":
        return cls(**{switch: False for switch in LIVE_SWITCHES})

    @classmethod
    def only(cls, switch: str) -> "Live":
        """The reference's answers, but for one switch."""
        return replace(cls.reference(), **{switch: True})


LIVE_SWITCHES: Tuple[str, ...] = tuple(field.name for field in fields(Live))


class Workspace:
    def __init__(self, knobs: Optional[Knobs] = None, now: int = DEFAULT_NOW, live: Optional[Live] = None):
        self.knobs = knobs or Knobs()
        self.live = live or Live()
        self._now = now
        self._lock = threading.Lock()
        self.editing = False  # edit records while they are read (the server's `edit_during_read`)
        self.edits: Dict[Tuple[str, Any], int] = {}  # (kind, id) -> when the record was edited
        self._edits_made = 0

    # -- the clock -------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self._now

    def advance(self, seconds: int) -> None:
        """Move the clock forward: records dated up to the new now become visible."""
        with self._lock:
            self._now += seconds

    # -- edits while a read runs -------------------------------------------------------------
    def edit(self, kind: str, record_id: Any) -> None:
        """Edit a record now. Edits are stamped one second apart from the clock on, newest last; the
        clock itself stands still (messages and activities must not appear in the middle of a read)."""
        with self._lock:
            self._edits_made += 1
            self.edits[(kind, record_id)] = self._now + self._edits_made

    def edit_while_read(self, kind: str, served: Any, unread: Any = None, key: str = "id") -> None:
        """With edits on, after a page was answered: edit the first record it served (already read),
        then `unread`, one the reader has not read yet (None: there is none)."""
        if not self.editing or not served:
            return
        self.edit(kind, served[0][key])
        if unread is not None:
            self.edit(kind, unread)

    def as_edited(
        self,
        kind: str,
        record: MutableMapping[str, Any],
        updated_field: str,
        label_field: str = "name",
        key: str = "id",
    ) -> MutableMapping[str, Any]:
        """`record` as it is after its edit, if it was edited: a new label and update time."""
        edited_at = self.edits.get((kind, record[key]))
        if edited_at is not None:
            record[label_field] = f"{record[label_field]} (edited)"
            record[updated_field] = edited_at
            if "deduplicate_id" in record:
                record["deduplicate_id"] = f"{record['id']}:{edited_at}"
        return record

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
