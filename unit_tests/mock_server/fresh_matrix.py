"""StreamMatrix with a new HttpMocker for every test run.

`@HttpMocker()` in harness.py builds one mocker per test *function*, shared by every class that
inherits it, and a mocker never forgets its matchers: a second class registering the same request
(a parent list, say) fails with "already mocked". The classes here re-wrap the matrix's tests so
each run gets its own mocker (call counts are still checked).
"""

import functools

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.harness import StreamMatrix


def with_fresh_http_mocker(test):
    @functools.wraps(test)
    def run(self):
        return HttpMocker()(test)(self)

    return run


class FreshStreamMatrix(StreamMatrix):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in dir(StreamMatrix):
            if name.startswith("test_"):
                setattr(cls, name, with_fresh_http_mocker(getattr(StreamMatrix, name).__wrapped__))
