"""newsletter_contents and newsletter_test_groups: one unpaged list per newsletter."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.harness import StreamMatrix
from unit_tests.mock_server.request_builder import CustomerioRequestBuilder
from unit_tests.mock_server.response_builder import record_builder, response_builder

NEWSLETTER_ID = 8


def given_newsletters(http_mocker: HttpMocker, newsletter_ids, region: str = "US") -> None:
    page = response_builder("newsletters", "newsletters")
    for newsletter_id in newsletter_ids:
        page = page.with_record(record_builder("newsletters", "newsletters").with_id(newsletter_id))
    http_mocker.get(
        CustomerioRequestBuilder.newsletters_endpoint().in_region(region).with_limit(100).build(), page.build()
    )


class NewsletterContentsTest(StreamMatrix, TestCase):
    stream_name = "newsletter_contents"
    first_id, second_id = 80, 81

    def given_parents(self, http_mocker, region="US"):
        given_newsletters(http_mocker, [NEWSLETTER_ID], region)

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint(f"newsletters/{NEWSLETTER_ID}/contents").in_region(region)

    def page(self):
        return response_builder("newsletter_contents", "contents")

    def record(self):
        return record_builder("newsletter_contents", "contents")


class NewsletterTestGroupsTest(StreamMatrix, TestCase):
    stream_name = "newsletter_test_groups"
    first_id, second_id = 0, 1

    def given_parents(self, http_mocker, region="US"):
        given_newsletters(http_mocker, [NEWSLETTER_ID], region)

    def request(self, region="US"):
        return CustomerioRequestBuilder.endpoint(f"newsletters/{NEWSLETTER_ID}/test_groups").in_region(region)

    def page(self):
        return response_builder("newsletter_test_groups", "test_groups")

    def record(self):
        return record_builder("newsletter_test_groups", "test_groups")

    @HttpMocker()
    def test_given_groups_without_newsletter_id_when_read_then_it_is_carried_into_the_key(
        self, http_mocker: HttpMocker
    ) -> None:
        given_newsletters(http_mocker, [5, 6])
        http_mocker.get(
            CustomerioRequestBuilder.endpoint("newsletters/5/test_groups").build(),
            self.page().with_record(self.record().with_id(0)).build(),
        )
        http_mocker.get(
            CustomerioRequestBuilder.endpoint("newsletters/6/test_groups").build(),
            self.page().with_record(self.record().with_id(0)).build(),
        )

        output = self.read()

        assert sorted(
            (message.record.data["newsletter_id"], message.record.data["id"]) for message in output.records
        ) == [
            (5, 0),
            (6, 0),
        ]
