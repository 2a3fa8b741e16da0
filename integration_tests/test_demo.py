"""`make demo` in its real-workspace mode, pointed at the sandbox: every stream arrives in DuckDB
through PyAirbyte, and the key appears in no output, on success or on failure."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict

from testkit.connector import discovered_streams, sandbox_config

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^(?P<stream>[a-z0-9_]+)\s+(?P<rows>[\d,]+)$")


def run_demo(api_key: str, api_url: str, cache_dir: Path) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CUSTOMERIO_")}
    env.update({"CUSTOMERIO_APP_API_KEY": api_key, "CUSTOMERIO_API_URL": api_url, "PYTHONUNBUFFERED": "1"})
    command = [sys.executable, str(ROOT / "scripts" / "demo.py"), "--cache-dir", str(cache_dir)]
    return subprocess.run(command, cwd=cache_dir, env=env, capture_output=True, text=True, timeout=600)


def rows_per_stream(stdout: str) -> Dict[str, int]:
    found = (ROW.match(line.strip()) for line in stdout.splitlines())
    return {
        match["stream"]: int(match["rows"].replace(",", "")) for match in found if match and match["stream"] != "total"
    }


def test_demo_syncs_every_stream_into_duckdb_and_never_prints_the_key(standard_sandbox, tmp_path):
    result = run_demo(standard_sandbox.app_key, standard_sandbox.url, tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert standard_sandbox.app_key not in result.stdout + result.stderr
    rows = rows_per_stream(result.stdout)
    assert set(rows) == set(discovered_streams(sandbox_config(standard_sandbox)))
    assert all(count > 0 for count in rows.values()), rows
    assert (tmp_path / "demo-workspace.duckdb").is_file()


def test_demo_with_a_rejected_key_says_why_and_never_prints_the_key(standard_sandbox, tmp_path):
    wrong_key = "canary-wrong-app-key-7f3a9c"

    result = run_demo(wrong_key, standard_sandbox.url, tmp_path)

    assert result.returncode == 1
    assert "rejected the App API key (HTTP 401)" in result.stderr
    log_file = Path(result.stderr.split("The connector's log: ", 1)[1].strip())
    assert wrong_key not in result.stdout + result.stderr + log_file.read_text()
