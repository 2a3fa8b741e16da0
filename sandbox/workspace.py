"""The sandbox's workspace: knobs, a controllable clock, and deterministic data.

Every record is a pure function of (seed, kind, index) and the clock, so a test can ask the
workspace for exactly what the API serves, and scale goes to millions without holding them.
People change over time (created, changed, merged, deleted): the workspace keeps an overlay of
the changed people only, and logs each change as an activity (sandbox/change_log.py).
"""

import hashlib
import random
import threading
from dataclasses import dataclass, fields, replace
from typing import Any, Dict, FrozenSet, Iterator, List, Mapping, MutableMapping, Optional, Set, Tuple

from sandbox import people
from sandbox.change_log import ChangeLog
from sandbox.people import DAY, IDENTIFIERS

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
    # 0: every people change is logged as an activity; N: every Nth change is made but not logged, as
    # changes a log can miss (what only a full reconciliation of the people catches).
    unlogged_changes_every: int = 0


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
# What a churn is made of: kinds of change and their shares.
CHURN_MIX = (
    ("attribute_changes", 0.40),
    ("device_changes", 0.15),
    ("creations", 0.15),
    ("deletions", 0.15),
    ("merges", 0.15),
)


class Workspace:
    def __init__(self, knobs: Optional[Knobs] = None, now: int = DEFAULT_NOW, live: Optional[Live] = None):
        self.knobs = knobs or Knobs()
        self.live = live or Live()
        self._now = now
        # Generated people were created before the clock's start: moving the clock changes no one.
        self.started = now
        self._lock = threading.Lock()
        self.editing = False  # edit records while they are read (the server's `edit_during_read`)
        self.edits: Dict[Tuple[str, Any], int] = {}  # (kind, id) -> when the record was edited
        self._edits_made = 0
        # The people overlay: only the changed people, by index. Writers hold the lock and replace a
        # person's entry whole, so a reader's single lookup needs no lock.
        self._created_at: Dict[int, int] = {}  # created people: when
        self._attribute_changes: Dict[int, Dict[str, str]] = {}  # attributes set since generation
        self._timestamp_changes: Dict[int, Dict[str, int]] = {}  # and when
        self._device_changes: Dict[int, Dict[str, Dict[str, Any]]] = {}  # device id -> the device now
        self._deleted: Set[int] = set()  # deleted and merged-away people
        self._changes_made = 0
        self._changes_unlogged = 0
        self._churns = 0
        self.change_log = ChangeLog()  # the changes' activities (read it with `entries`)

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

    # -- people as they are now -------------------------------------------------------------
    def person_ids(self, index: int) -> Dict[str, Optional[str]]:
        return people.person_ids(index, self.knobs.email_only_share)

    @property
    def people_count(self) -> int:
        """Generated and created people, deleted ones included: person indexes run 0..people_count-1."""
        return self.knobs.people + len(self._created_at)

    def live_people_count(self) -> int:
        return self.people_count - len(self._deleted)

    def is_deleted(self, index: int) -> bool:
        return index in self._deleted

    def is_live(self, index: int) -> bool:
        return 0 <= index < self.people_count and index not in self._deleted

    def live_person_indexes(self, start: int = 0) -> Iterator[int]:
        """The people not deleted, in index order from `start`."""
        deleted = self._deleted
        return (index for index in range(start, self.people_count) if index not in deleted)

    def deleted_people(self) -> Set[str]:
        """The cio_ids of the people the overlay deleted (deletions and merged-away people)."""
        with self._lock:
            return {self.person_ids(index)["cio_id"] or "" for index in self._deleted}

    def deleted_indexes(self) -> FrozenSet[int]:
        with self._lock:
            return frozenset(self._deleted)

    def person_index(self, cio_id: str) -> Optional[int]:
        try:
            index = int(cio_id, 16) - 0x3000000
        except ValueError:
            return None
        return index if self.is_live(index) else None

    def person_created_at(self, index: int) -> int:
        created = self._created_at.get(index)
        return people.generated_created_at(self.started, index) if created is None else created

    def person_attributes(self, index: int) -> Dict[str, str]:
        """A person's attributes now, all strings as the API gives them; identifiers included when set."""
        attrs = people.generated_attributes(self.person_ids(index), index, self.person_created_at(index))
        attrs.update(self._attribute_changes.get(index, {}))
        return attrs

    def person_timestamps(self, index: int) -> Dict[str, int]:
        """When each attribute was last set: at creation (a generated person's `unsubscribed` a day later)."""
        created = self.person_created_at(index)
        timestamps = {name: created for name in self.person_attributes(index)}
        if index not in self._created_at:
            timestamps["unsubscribed"] = created + DAY
        timestamps.update(self._timestamp_changes.get(index, {}))
        return timestamps

    def person_devices(self, index: int) -> List[Dict[str, Any]]:
        devices = {device["id"]: device for device in people.generated_devices(index, self.person_created_at(index))}
        devices.update(self._device_changes.get(index, {}))
        return list(devices.values())

    # -- people changes (each logged as an activity at now) ----------------------------------
    def create_person(self, logged: bool = True) -> int:
        """A new person at the next index: identifiers as generated ones have, created now."""
        with self._lock:
            return self._create_person(logged)

    def change_attributes(self, index: int, changes: Mapping[str, str], logged: bool = True) -> None:
        """Set attributes (identifiers excepted); one `attribute_change` per attribute whose value changes."""
        with self._lock:
            self._change_attributes(index, changes, logged)

    def change_devices(self, index: int, logged: bool = True) -> None:
        """The person's first device is used now with a new app version; a person without one gets one."""
        with self._lock:
            self._change_devices(index, logged)

    def merge_people(self, primary: int, secondary: int, logged: bool = True) -> None:
        """As Customer.io merges: the primary keeps its identifiers and gets the secondary's attributes it
        has not set (or set empty) and its devices; the secondary is deleted. Logged on the primary."""
        with self._lock:
            self._merge_people(primary, secondary, logged)

    def delete_person(self, index: int, logged: bool = True) -> None:
        with self._lock:
            self._delete_person(index, logged)

    def churn(self, share: float) -> Dict[str, int]:
        """round(share * live people) changes of random live people, in CHURN_MIX's proportions, seeded
        by the seed and the number of churns so far. Counts per kind, and how many were left unlogged."""
        with self._lock:
            self._churns += 1
            rng = random.Random(f"{self.knobs.seed}:churn:{self._churns}")
            unlogged_before = self._changes_unlogged
            counts = dict.fromkeys([kind for kind, _ in CHURN_MIX], 0)
            for _ in range(round(share * self.live_people_count())):
                kind = self._churn_kind(rng)
                self._churn_one(kind, rng)
                counts[kind] += 1
            counts["unlogged"] = self._changes_unlogged - unlogged_before
            return counts

    def _create_person(self, logged: bool) -> int:
        index = self.people_count
        self._created_at[index] = self._now
        self._log_change(index, "profile_create", {}, self._count_change(logged))
        return index

    def _change_attributes(self, index: int, changes: Mapping[str, str], logged: bool) -> None:
        self._require_live(index)
        if set(changes) & set(IDENTIFIERS):
            raise ValueError("identifiers do not change in the sandbox")
        current = self.person_attributes(index)
        changed = {name: value for name, value in changes.items() if current.get(name) != value}
        if not changed:  # setting a value it already has is no change, and Customer.io logs none
            return
        self._set_attributes(index, changed)
        logging = self._count_change(logged)
        for name, value in changed.items():
            self._log_change(index, "attribute_change", {name: {"from": current.get(name), "to": value}}, logging)

    def _change_devices(self, index: int, logged: bool) -> None:
        self._require_live(index)
        logging = self._count_change(logged)
        device = self._changed_device(index)
        self._device_changes[index] = {**self._device_changes.get(index, {}), device["id"]: device}
        self._log_change(index, "device_change", {"device": device}, logging)

    def _changed_device(self, index: int) -> Dict[str, Any]:
        version = {"app_version": f"4.{self._changes_made}.0"}
        devices = self.person_devices(index)
        if devices:
            first = devices[0]
            return {**first, "last_used": self._now, "attributes": {**first["attributes"], **version}}
        platform = "ios" if index % 2 else "android"
        return {"id": f"device-{index:x}", "platform": platform, "last_used": self._now, "attributes": version}

    def _merge_people(self, primary: int, secondary: int, logged: bool) -> None:
        if primary == secondary:
            raise ValueError("a person cannot be merged into themselves")
        self._require_live(primary)
        self._require_live(secondary)
        kept = self.person_attributes(primary)
        inherited = {
            name: value
            for name, value in self.person_attributes(secondary).items()
            if name not in IDENTIFIERS and not kept.get(name)
        }
        self._set_attributes(primary, inherited)
        devices = {device["id"]: device for device in self.person_devices(secondary)}
        self._device_changes[primary] = {**self._device_changes.get(primary, {}), **devices}
        self._deleted.add(secondary)
        merged = self.person_ids(secondary)
        data = {"merged": {name: merged[name] for name in IDENTIFIERS}}
        self._log_change(primary, "profile_merge", data, self._count_change(logged))

    def _delete_person(self, index: int, logged: bool) -> None:
        self._require_live(index)
        self._deleted.add(index)
        self._log_change(index, "profile_delete", {}, self._count_change(logged))

    def _require_live(self, index: int) -> None:
        if not self.is_live(index):
            raise ValueError(f"person {index} does not exist or was deleted")

    def _set_attributes(self, index: int, values: Mapping[str, str]) -> None:
        self._attribute_changes[index] = {**self._attribute_changes.get(index, {}), **values}
        self._timestamp_changes[index] = {**self._timestamp_changes.get(index, {}), **dict.fromkeys(values, self._now)}

    def _count_change(self, logged: bool) -> bool:
        """Count a change made; whether it is logged (with the knob, every Nth is not)."""
        self._changes_made += 1
        every = self.knobs.unlogged_changes_every
        if logged and every and self._changes_made % every == 0:
            self._changes_unlogged += 1
            return False
        return logged

    def _log_change(self, index: int, activity_type: str, data: Dict[str, Any], logged: bool) -> None:
        if logged:
            self.change_log.log(index, self.person_ids(index), activity_type, self._now, data)

    def _churn_kind(self, rng: random.Random) -> str:
        """A kind drawn by CHURN_MIX; a creation when too few people are left for the kind drawn."""
        draw, kind = rng.random(), CHURN_MIX[-1][0]
        for candidate, share in CHURN_MIX:
            if draw < share:
                kind = candidate
                break
            draw -= share
        needed = {"creations": 0, "merges": 2}.get(kind, 1)
        return kind if self.live_people_count() >= needed else "creations"

    def _churn_one(self, kind: str, rng: random.Random) -> None:
        if kind == "creations":
            self._create_person(True)
            return
        index = self._random_live_person(rng)
        if kind == "attribute_changes":
            current = self.person_attributes(index)
            names = rng.sample(people.CHURNED_ATTRIBUTES, rng.randint(1, 2))
            self._change_attributes(
                index, {name: people.churned_value(name, current.get(name), rng) for name in names}, True
            )
        elif kind == "device_changes":
            self._change_devices(index, True)
        elif kind == "deletions":
            self._delete_person(index, True)
        else:
            self._merge_people(index, self._random_live_person(rng, other_than=index), True)

    def _random_live_person(self, rng: random.Random, other_than: Optional[int] = None) -> int:
        while True:
            index = rng.randrange(self.people_count)
            if index != other_than and index not in self._deleted:
                return index

    # -- segments and membership -----------------------------------------------------------
    SEGMENT_MODULI = (1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31)

    def segment_rule(self, segment_id: int) -> Dict[str, int]:
        """Segment n holds the people whose index ≡ rest (mod modulus): enumerable without scans."""
        modulus = self.SEGMENT_MODULI[(segment_id - 1) % len(self.SEGMENT_MODULI)]
        return {"modulus": modulus, "rest": (segment_id * 7) % modulus}

    def segment_member_indexes(self, segment_id: int, start: int = 0) -> Iterator[int]:
        """The live members from index `start` on: created people join by the rule, deleted ones leave."""
        rule = self.segment_rule(segment_id)
        first = start + (rule["rest"] - start) % rule["modulus"]
        deleted = self._deleted
        return (index for index in range(first, self.people_count, rule["modulus"]) if index not in deleted)

    def in_segment(self, index: int, segment_id: int) -> bool:
        if not 1 <= segment_id <= self.knobs.segments:
            return False
        rule = self.segment_rule(segment_id)
        return index % rule["modulus"] == rule["rest"]
