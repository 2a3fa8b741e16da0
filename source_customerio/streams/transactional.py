"""Transactional message templates and their contents (one per language)."""

from source_customerio.streams.base import ClientSideIncrementalMixin, CustomerioStream, SubstreamMixin


class TransactionalMessages(ClientSideIncrementalMixin, CustomerioStream):
    """GET /v1/transactional: the whole list under the key `messages`; incremental on `updated_at`."""

    data_field = "messages"
    path_template = "transactional"
    cursor_field = "updated_at"


class TransactionalContents(SubstreamMixin, ClientSideIncrementalMixin, CustomerioStream):
    """GET /v1/transactional/{id}/contents: the language variants of a template; incremental on `updated`."""

    primary_key = ["transactional_id", "id"]
    data_field = "contents"
    path_template = "transactional/{transactional_id}/contents"
    parent = TransactionalMessages
    slice_field = "transactional_id"
    cursor_field = "updated"
