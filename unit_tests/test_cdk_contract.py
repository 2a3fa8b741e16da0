"""What this connector relies on in the CDK beyond its public API, each pinned by a test that fails
on the day a CDK upgrade changes it."""

import time

import requests
from airbyte_cdk.sources.streams.http.exceptions import UserDefinedBackoffException
from airbyte_cdk.sources.streams.http.rate_limiting import user_defined_backoff_handler

from source_customerio.errors import cdk_backoff_value


def test_given_backoff_value_then_cdk_sleeps_it_plus_the_second_cdk_backoff_value_takes_off():
    request = requests.Request("GET", "https://api.customer.io/v1/campaigns").prepare()
    attempts = []

    def send():
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise UserDefinedBackoffException(backoff=cdk_backoff_value(1.3), request=request, response=None)
        return "sent"

    assert user_defined_backoff_handler(max_tries=2)(send)() == "sent"
    assert 1.25 <= attempts[1] - attempts[0] < 1.8
