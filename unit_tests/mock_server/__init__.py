import pytest

# The shared matrix asserts in harness.py; rewrite its asserts so failures show values.
pytest.register_assert_rewrite("unit_tests.mock_server.harness")
