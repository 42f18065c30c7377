"""Shared fixtures. TUI snapshot determinism: no NO_COLOR / TEXTUAL_* leaking in from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if (
            key == "NO_COLOR"
            or key == "TRUEUP_WORKSPACE"
            or (key.startswith("TEXTUAL_") and not key.startswith("TEXTUAL_SNAPSHOT"))
        ):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TRUEUP_USER", "admin")  # Argo CD's built-in admin (g, admin, role:admin)


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `trueup` command in a subprocess (what a user types)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL_") and k != "NO_COLOR"}
    e.setdefault("TRUEUP_USER", "admin")  # session/module fixtures run before the autouse env fixture
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "console.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=e,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo workspace for the session, created and refreshed through the CLI."""
    ws = tmp_path_factory.mktemp("demo") / "ws"
    r = run_cli("demo", "init", str(ws))
    assert r.returncode == 0, r.stderr
    r = run_cli("-w", str(ws), "refresh")
    assert r.returncode == 0, r.stderr
    return ws
