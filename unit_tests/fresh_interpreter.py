"""Scripts run in a fresh interpreter, for what happens at import or start-up: the test process is long
past it (its conftest imported the CDK)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_interpreter_output(script: str) -> str:
    """What `script` printed, run from the repository's root (so that it can import unit_tests)."""
    return subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True, cwd=ROOT).stdout
