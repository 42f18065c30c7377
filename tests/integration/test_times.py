"""No displayed time is in the future (issue 7 item 9): the demo stages 20 minutes of history with
its sim clocks in the past, so they end at the wall clock, and every time the engine writes
(operation start/finish, reconciledAt, history deployedAt, conditions) is on the cluster's clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git

from console.engine.workspace import load
from tests.conftest import run_cli

RFC3339 = re.compile(r"\b(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))")


def _times(text: str) -> list[datetime]:
    return [datetime.fromisoformat(m.replace("Z", "+00:00")) for m in RFC3339.findall(text)]


def _json(ws: Path, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[Any, datetime]:
    r = run_cli("-w", str(ws), *args)
    done = datetime.now(UTC)
    assert r.returncode in ok, (args, r.stderr)
    return json.loads(r.stdout), done


def test_no_time_in_any_json_output_is_in_the_future(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    started = datetime.now(UTC)
    assert run_cli("demo", "init", str(ws)).returncode == 0
    outputs: list[tuple[str, Any, datetime]] = []

    def collect(*args: str, ok: tuple[int, ...] = (0,)) -> Any:
        data, done = _json(ws, *args, ok=ok)
        outputs.append((" ".join(args), data, done))
        return data

    collect("refresh", "-o", "json")
    collect("app", "sync", "payments-api-prod-us", "-o", "json")
    for app in collect("app", "list", "-o", "json"):
        collect("app", "get", app["name"], "-o", "json")
        collect("app", "history", app["name"], "-o", "json")
    collect("app", "diff", "identity-api-prod-us", "-o", "json", ok=(1,))  # drift "changed at" times
    collect("app", "manifests", "identity-api-prod-us", "--source", "live", "-o", "json")  # managedFields
    collect("project", "list", "-o", "json")
    counted = 0
    for what, data, done in outputs:
        for at in _times(json.dumps(data)):
            counted += 1
            assert at <= done + timedelta(seconds=1), f"{what}: {at.isoformat()} is after {done.isoformat()}"
    assert counted > 100  # the outputs really carry times (managedFields, operations, history, status)

    # the sim clocks read the wall time: never ahead of it, and not hours behind
    workspace = load(ws)
    for name in workspace.clusters:
        sim_now = workspace.open_cluster(name).clock.now()  # type: ignore[attr-defined]
        assert started - timedelta(seconds=5) <= sim_now <= datetime.now(UTC) + timedelta(seconds=1), name

    # the initial deployment, the sync and the commits sit on one timeline, in order
    history = {h["id"]: h for h in _json(ws, "app", "history", "payments-api-prod-us", "-o", "json")[0]}
    repo = git.Repo(ws / "git" / "fleet.git")
    first, second = list(repo.iter_commits("main"))[::-1]
    deployed0 = datetime.fromisoformat(history[0]["deployedAt"].replace("Z", "+00:00"))
    deployed1 = datetime.fromisoformat(history[1]["deployedAt"].replace("Z", "+00:00"))
    assert first.committed_datetime <= deployed0 < second.committed_datetime <= deployed1
    assert deployed1 - deployed0 >= timedelta(minutes=20)  # the staged 20 minutes happened before now
