from source_customerio.source import SourceCustomerio

__all__ = ["SourceCustomerio"]
