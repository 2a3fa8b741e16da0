"""The sandbox over HTTP: each `Live` switch answers as live accounts do, and as the reference says when
off; the `empty_pages` and `edit_during_read` chaos switches."""

from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from sandbox.api import encode_cursor
from sandbox.server import Sandbox, Settings
from sandbox.workspace import DAY, LIVE_SWITCHES, Knobs, Live
from testkit.connector import SMALL_KNOBS

LIVE, REFERENCE = Live(), Live.reference()


@pytest.fixture
def serve() -> Iterator[Any]:
    started: List[Sandbox] = []

    def start(live: Live = LIVE, knobs: Knobs = SMALL_KNOBS, settings: Optional[Settings] = None) -> Sandbox:
        started.append(Sandbox(knobs, settings, live=live).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def call(server: Sandbox, path: str, method: str = "GET", base: Optional[str] = None, **kwargs: Any):
    headers = {"Authorization": f"Bearer {server.app_key}"}
    return requests.request(method, f"{base or server.url}/v1/{path}", headers=headers, timeout=10, **kwargs)


def get(server: Sandbox, path: str, **kwargs: Any) -> Dict[str, Any]:
    response = call(server, path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def every_page(
    server: Sandbox, path: str, method: str = "GET", most: int = 1000, **kwargs: Any
) -> List[Dict[str, Any]]:
    """Each page of a listing (the first `most`), following `next` until it is empty."""
    pages, params = [], dict(kwargs.pop("params", {}))
    while len(pages) < most:
        body = get(server, path, method=method, params=params, **kwargs)
        pages.append(body)
        if not body.get("next"):
            return pages
        params["start"] = body["next"]
    return pages


def test_the_switches_are_every_field_of_live_and_each_can_be_turned_on_alone():
    assert LIVE_SWITCHES == tuple(vars(Live()))
    assert all(vars(Live()).values()) and not any(vars(REFERENCE).values())
    assert [name for name, on in vars(Live.only("null_empty_lists")).items() if on] == ["null_empty_lists"]


@pytest.mark.parametrize("live, hidden_listing", [(Live(), "hidden only"), (REFERENCE, "visible and hidden")])
def test_senders_hidden_true_lists_per_reading_and_pages_end_as_each_says(serve, live, hidden_listing):
    server = serve(live, Knobs(sender_identities=20))  # index 8 and 17 hidden

    hidden_pages = every_page(server, "sender_identities", params={"hidden": "true", "limit": 5})
    visible_pages = every_page(server, "sender_identities", params={"limit": 5})

    hidden = [sender["id"] for page in hidden_pages for sender in page["sender_identities"]]
    visible = [sender["id"] for page in visible_pages for sender in page["sender_identities"]]
    assert visible == [400 + index for index in range(20) if index not in (8, 17)]
    assert hidden == ([408, 417] if hidden_listing == "hidden only" else list(range(400, 420)))
    # Live, the page after the last is empty (next ""); the reference's last page says "".
    assert (visible_pages[-1]["sender_identities"] == []) is live.senders_hidden_only


@pytest.mark.parametrize("live", [Live(), REFERENCE], ids=["live", "reference"])
def test_empty_lists_are_null_live_and_empty_in_the_reference(serve, live):
    server = serve(live, Knobs(people=5, suppressions=0, messages=0))
    empty = None if live.null_empty_lists else []

    search = get(server, "customers", method="POST", json={"filter": {"segment": {"id": 99}}})
    membership = get(server, "segments/2/membership", params={"start": encode_cursor("members", 99)})
    suppressions = get(server, "esp/suppression/bounces")
    messages = get(server, "messages")

    assert (search["identifiers"], search["ids"]) == (empty, empty)
    assert (membership["identifiers"], membership["ids"]) == (empty, empty)
    assert suppressions == ({"suppressions": None} if empty is None else {"category": "bounces", "suppressions": []})
    assert messages["messages"] == empty


@pytest.mark.parametrize("live", [Live(), REFERENCE], ids=["live", "reference"])
def test_batch_attributes_come_unwrapped_live_and_wrapped_in_the_reference(serve, live):
    server = serve(live)

    body = get(server, "customers/attributes", method="POST", params={"id_type": "cio_id"}, json={"ids": ["3000001"]})

    person = body["customers"][0] if live.unwrapped_batch_attributes else body["customers"][0]["customer"]
    assert person["identifiers"]["cio_id"] == "3000001" and "attributes" in person


@pytest.mark.parametrize("live, status", [(Live(), 401), (REFERENCE, 301)], ids=["live", "reference"])
def test_the_other_region_answers_401_live_and_redirects_in_the_reference(serve, live, status):
    server = serve(live)

    response = call(server, "workspaces", base=server.other_region_url, allow_redirects=False)

    assert response.status_code == status
    assert ("Location" in response.headers) is (status == 301)


@pytest.mark.parametrize("live", [Live(), REFERENCE], ids=["live", "reference"])
def test_action_ids_are_strings_live_and_integers_in_the_reference(serve, live):
    server = serve(live)

    actions = get(server, "campaigns/1/actions")["actions"] + get(server, "broadcasts/1/actions")["actions"]
    campaign_action_ids = [action["id"] for action in get(server, "campaigns")["campaigns"][0]["actions"]]

    assert {type(action["id"]) for action in actions} == {str if live.string_action_ids else int}
    assert {type(action_id) for action_id in campaign_action_ids} == {int}  # the parent's list keeps integers


def test_broadcast_actions_page_with_next_ten_at_a_time(serve):
    server = serve(Live(), Knobs(broadcasts=5))  # broadcast 4 has 12 actions

    pages = every_page(server, "broadcasts/4/actions")

    assert [len(page["actions"]) for page in pages] == [10, 2]


@pytest.mark.parametrize("live", [Live(), REFERENCE], ids=["live", "reference"])
def test_opened_activities_carry_the_open_time_live_and_a_boolean_in_the_reference(serve, live):
    server = serve(live)

    opened = get(server, "activities", params={"type": "opened_email", "limit": 100})["activities"]

    assert opened
    for activity in opened:
        if live.opened_as_epoch:
            assert activity["data"]["opened"] == activity["timestamp"] and activity["data"]["ip_address"]
        else:
            assert isinstance(activity["data"]["opened"], bool)


@pytest.mark.parametrize("live", [Live(), REFERENCE], ids=["live", "reference"])
def test_backdated_activities_are_listed_once_processed_live(serve, live):
    # An activity a minute, some processed up to 50 minutes after their timestamp.
    server = serve(live, Knobs(activities=30 * 24 * 60, activity_backdate_max_seconds=3000))

    def listed_ids() -> List[str]:
        pages = every_page(server, "activities", most=3, params={"limit": 100})
        return [activity["id"] for page in pages[:3] for activity in page["activities"]]

    before = listed_ids()
    server.workspace.advance(3600)
    after = listed_ids()

    backdated = [activity for activity in after[60:] if activity not in before]  # older than the hour just gone
    assert bool(backdated) is live.backdated_activities


@pytest.mark.parametrize("live", [Live(), REFERENCE], ids=["live", "reference"])
def test_deliveries_carry_the_fields_live_accounts_send(serve, live):
    server = serve(live, Knobs(messages=600, message_history_days=10))

    delivered = [
        message for page in every_page(server, "messages", params={"limit": 1000}) for message in page["messages"]
    ]

    keys = {key for message in delivered for key in message["metrics"]}
    deleted = [
        message
        for message in delivered
        if message["customer_identifiers"]["email"] is None and message["customer_identifiers"]["id"] is None
    ]
    if live.live_message_fields:
        assert "secondary:delivered" in keys
        assert all("msg_template_id" in message and "transactional_message_id" in message for message in delivered)
        assert deleted and all(message["customer_id"] is None for message in deleted)
    else:
        assert "secondary:delivered" not in keys and not deleted
        assert not any("msg_template_id" in message for message in delivered)


def test_empty_pages_come_before_every_page_and_every_record_once(serve):
    server = serve(Live(), settings=Settings(empty_pages=True))

    pages = every_page(server, "campaigns/1/actions")

    assert [bool(page["actions"]) for page in pages] == [False, True] * (len(pages) // 2)
    actions = [action["id"] for page in pages for action in page["actions"] or ()]
    assert len(actions) == len(set(actions)) == len(get_without_chaos(serve, "campaigns/1/actions"))
    assert server.stats.snapshot()["empty_pages"] == len(pages) // 2


def get_without_chaos(serve, path: str) -> List[Dict[str, Any]]:
    plain = serve(Live())
    return [action for page in every_page(plain, path) for action in page["actions"]]


def test_edits_during_a_read_edit_a_read_record_then_a_later_one_newer(serve):
    server = serve(Live(), settings=Settings(edit_during_read=True))
    ws = server.workspace

    first = get(server, "campaigns/1/actions")["actions"]
    edits = dict(ws.edits)

    read_id, unread_id = (key[1] for key in edits)  # in the order they were made
    assert read_id == int(first[0]["id"])
    assert unread_id not in {int(action["id"]) for action in first}
    assert edits[("action", read_id)] < edits[("action", unread_id)]
    assert all(at > ws.now - DAY for at in edits.values())
    again = {int(action["id"]): action for action in get(server, "campaigns/1/actions")["actions"]}
    assert again[read_id]["updated"] == edits[("action", read_id)] and again[read_id]["name"].endswith("(edited)")


def test_stats_count_the_pages_of_the_longest_listing(serve):
    server = serve(LIVE, Knobs(newsletters=7))

    every_page(server, "newsletters", params={"limit": 2})  # 4 pages
    every_page(server, "newsletters", params={"limit": 7})  # another listing: 1 page
    get(server, "campaigns")

    longest = server.stats.snapshot()["longest_chain"]
    assert longest["pages"] == 4 and longest["seconds"] > 0
