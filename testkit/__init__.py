"""Test support: drives the connector against the sandbox and states what it must emit.

The sandbox (`sandbox/`) is a fake Customer.io API and knows nothing of the connector; what the
connector should make of the sandbox's data (its config, its transforms) lives here.
"""
