import sys

from source_customerio.entrypoint import launch


def run() -> None:
    launch(sys.argv[1:])
