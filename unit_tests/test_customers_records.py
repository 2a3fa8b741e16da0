"""Customers, search method: batching the searched people, shaping records, spotting left-out ids."""

import pytest

from source_customerio.export_file import select_attributes
from source_customerio.streams.customers import (
    EVERYONE,
    attribute_slices,
    audience,
    cio_ids_of,
    customer_record,
    customers_in,
    left_out_ids,
    stamped_with_deletions,
)


def person(number, with_id=True):
    return {"cio_id": f"c{number}", "id": str(number) if with_id else None, "email": f"p{number}@example.com"}


def test_given_250_people_then_batches_of_100_100_50_cio_ids():
    slices = list(attribute_slices(cio_ids_of(person(n) for n in range(250))))

    assert slices == [
        {"ids": [f"c{n}" for n in range(0, 100)]},
        {"ids": [f"c{n}" for n in range(100, 200)]},
        {"ids": [f"c{n}" for n in range(200, 250)]},
    ]


def test_given_people_without_id_then_they_share_batches_by_cio_id():
    people = [person(1), person(2, with_id=False), person(3), {"cio_id": "c4", "id": "", "email": None}, person(5)]

    assert list(attribute_slices(cio_ids_of(people), batch_size=2)) == [
        {"ids": ["c1", "c2"]},
        {"ids": ["c3", "c4"]},
        {"ids": ["c5"]},
    ]


def test_given_no_people_then_no_slices():
    assert list(attribute_slices([])) == []


def test_slices_are_made_lazily_so_memory_stays_flat():
    consumed = []

    def people():
        for n in range(1000):
            consumed.append(n)
            yield person(n)

    first = next(attribute_slices(cio_ids_of(people())))

    assert first == {"ids": [f"c{n}" for n in range(100)]}
    assert len(consumed) == 100


@pytest.mark.parametrize(
    "attributes, names, expected",
    [
        ({"a": "1", "b": "2"}, (), {"a": "1", "b": "2"}),
        ({"a": "1", "b": "2", "c": "3"}, ("c", "a"), {"c": "3", "a": "1"}),
        ({"a": "1"}, ("a", "missing"), {"a": "1"}),
        ({"a": "1"}, ("missing",), {}),
    ],
    ids=["no-selection-keeps-all", "keeps-listed", "listed-but-absent-left-out", "nothing-listed-present"],
)
def test_select_attributes(attributes, names, expected):
    assert select_attributes(attributes, names) == expected


CUSTOMER = {
    "id": "42",
    "identifiers": {"email": "ada@example.com", "id": "42", "cio_id": "a3000001"},
    "attributes": {"cio_id": "a3000001", "id": "42", "email": "ada@example.com", "plan": "pro", "first_name": "Ada"},
    "timestamps": {"cio_id": 1489014595, "plan": 1508932553},
    "unsubscribed": False,
    "devices": [{"id": "ios-1", "last_used": 1514764800, "platform": "ios"}],
}


def test_customer_record_takes_identifiers_and_keeps_listed_attributes():
    assert customer_record(CUSTOMER, ("plan", "email")) == {
        "cio_id": "a3000001",
        "id": "42",
        "email": "ada@example.com",
        "attributes": {"plan": "pro", "email": "ada@example.com"},
        "unsubscribed": False,
        "devices": [{"id": "ios-1", "last_used": 1514764800, "platform": "ios"}],
        "timestamps": {"cio_id": 1489014595, "plan": 1508932553},
    }


def test_customer_record_of_an_email_only_person_has_no_id():
    customer = {
        "id": None,
        "identifiers": {"email": "eve@example.com", "id": None, "cio_id": "a3000002"},
        "attributes": {"cio_id": "a3000002", "email": "eve@example.com"},
    }

    record = customer_record(customer, ())

    assert (record["cio_id"], record["id"], record["email"]) == ("a3000002", None, "eve@example.com")
    assert record["attributes"] == {"cio_id": "a3000002", "email": "eve@example.com"}


def test_customer_record_falls_back_to_attributes_for_identifiers():
    customer = {"attributes": {"cio_id": "a3000003", "id": "7"}}

    assert customer_record(customer, ())["cio_id"] == "a3000003"
    assert customer_record(customer, ())["id"] == "7"


def test_customers_in_reads_batch_answers():
    assert customers_in({"customers": [{"customer": CUSTOMER}]}) == [CUSTOMER]
    assert customers_in({"customers": [CUSTOMER]}) == [CUSTOMER]
    assert customers_in({"customers": []}) == []


def test_left_out_ids_are_the_requested_cio_ids_missing_from_the_answer():
    answered = [{"identifiers": {"id": "42", "cio_id": "c42"}}, {"attributes": {"cio_id": "c43"}}]

    assert left_out_ids(["c41", "c42", "c43", "c44"], answered) == ["c41", "c44"]
    assert left_out_ids(["c42"], answered) == []


def test_audience_is_the_filter_or_everyone():
    segment = {"segment": {"id": 7}}

    assert audience(segment) is segment
    assert audience(None) == EVERYONE == {"attribute": {"field": "cio_id", "operator": "exists"}}


def test_given_people_the_log_showed_gone_then_a_deletion_for_each_one_the_export_file_does_not_hold():
    rows = [{"cio_id": "c1"}, {"cio_id": "c2"}]

    out = list(stamped_with_deletions(rows, ["c9", "c2", "c8"], read_began=500))

    assert out[:2] == [{"cio_id": "c1", "_ab_cdc_updated_at": 500}, {"cio_id": "c2", "_ab_cdc_updated_at": 500}]
    assert [(row["cio_id"], row["_ab_cdc_deleted_at"], row["_ab_cdc_updated_at"]) for row in out[2:]] == [
        ("c9", 500, 501),
        ("c8", 500, 501),
    ]
