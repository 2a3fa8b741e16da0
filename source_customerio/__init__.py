from source_customerio.fast_start import import_cdk_models

import_cdk_models()  # first: before any module of ours imports the CDK

from source_customerio.source import SourceCustomerio  # noqa: E402

__all__ = ["SourceCustomerio"]
