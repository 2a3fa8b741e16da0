"""Start-up: the CDK's protocol serializers built without looking for attribute docstrings.

Importing airbyte_cdk builds eight serpyco_rs serializers for the Airbyte protocol. For every
dataclass they describe, serpyco_rs looks for docstrings under its attributes to put in a JSON schema,
and finds them by parsing the class's source; on Python 3.11 `inspect.getsource` parses the whole
models module once per class. That is 0.4–0.7 s of CPU, a third of the connector's start-up, paid by
spec, check, discover and read alike. The protocol's models have no attribute docstrings, so the
search finds nothing: skipping it while the CDK is imported builds the same serializers
(unit_tests/test_fast_start.py compares them with ones built the long way). If serpyco_rs renames
what is skipped here, nothing is skipped and the same test fails.
"""

import contextlib
from types import ModuleType
from typing import Any, Dict, Iterator, List

DOC_LOOKUP = "get_attributes_doc"


def doc_lookup_modules() -> List[ModuleType]:
    """serpyco_rs's modules that look up attribute docstrings, each through its own imported name."""
    try:
        from serpyco_rs import _describe
        from serpyco_rs._json_schema import _convert
    except ImportError:
        return []
    return [module for module in (_describe, _convert) if callable(getattr(module, DOC_LOOKUP, None))]


def no_attribute_docs(cls: Any) -> Dict[str, str]:
    return {}


@contextlib.contextmanager
def attribute_docs_skipped() -> Iterator[None]:
    modules = doc_lookup_modules()
    originals = [getattr(module, DOC_LOOKUP) for module in modules]
    for module in modules:
        setattr(module, DOC_LOOKUP, no_attribute_docs)
    try:
        yield
    finally:
        for module, original in zip(modules, originals, strict=True):
            setattr(module, DOC_LOOKUP, original)


def import_cdk_models() -> None:
    """Import airbyte_cdk (whose package import builds the serializers) with the lookup skipped; a no-op
    when something in this process imported it first."""
    with attribute_docs_skipped():
        import airbyte_cdk.models  # noqa: F401
