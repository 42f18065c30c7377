"""`trueup app resources|events|logs` and `trueup changes` on the demo, as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


def cli(ws: Path, *args: str) -> tuple[int, str, str]:
    r = run_cli("-w", str(ws), *args)
    return r.returncode, r.stdout, r.stderr


def test_resources(demo_workspace: Path) -> None:
    rc, out, err = cli(demo_workspace, "app", "resources", "risk-engine-prod-eu", "-o", "tree")
    assert rc == 0, err
    assert out.splitlines()[0] == "risk-engine-prod-eu  (Synced, Degraded)"
    assert "Deployment/risk-engine  Synced, Degraded  0/3 ready" in out and "ImagePullBackOff" in out
    rc, out, _ = cli(demo_workspace, "app", "resources", "risk-engine-prod-eu", "-o", "json")
    tree = json.loads(out)
    dep = next(n for n in tree if n["kind"] == "Deployment")
    assert dep["status"] == "Synced" and dep["children"][0]["kind"] == "ReplicaSet"
    rc, out, _ = cli(demo_workspace, "app", "resources", "identity-api-prod-us")
    assert rc == 0 and out.splitlines()[0].split() == [
        "GROUP",
        "KIND",
        "NAMESPACE",
        "NAME",
        "STATUS",
        "HEALTH",
        "INFO",
    ]


def test_events(demo_workspace: Path) -> None:
    rc, out, err = cli(demo_workspace, "app", "events", "risk-engine-prod-eu", "-o", "json")
    assert rc == 0, err
    events = json.loads(out)
    by = {(e["reason"], e["involvedObject"]["kind"]) for e in events}
    assert {
        ("ScalingReplicaSet", "Deployment"),
        ("SuccessfulCreate", "ReplicaSet"),
        ("Scheduled", "Pod"),
        ("Failed", "Pod"),
        ("BackOff", "Pod"),
    } <= by
    failed = [e for e in events if e["reason"] == "Failed" and e["message"] == "Error: ImagePullBackOff"]
    assert failed and all(
        e["type"] == "Warning" and e["source"] == "kubelet" and e["count"] >= 1 for e in failed
    )
    rc, out, _ = cli(demo_workspace, "app", "events", "risk-engine-prod-eu")
    assert rc == 0 and out.splitlines()[0].split()[:3] == ["LAST", "SEEN", "TYPE"]


def test_logs(demo_workspace: Path) -> None:
    rc, out, err = cli(demo_workspace, "app", "logs", "identity-api-prod-us", "--tail", "2")
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 6 and all(
        ln.startswith("[identity-api-") for ln in lines
    )  # 3 pods x 2 lines, prefixed
    assert any("DEBUG" in ln for ln in lines)  # the kubectl edit set LOG_LEVEL=debug
    rc, out, err = cli(demo_workspace, "app", "logs", "risk-engine-prod-eu")
    assert rc == 1 and out == ""
    assert err.count("is waiting to start: trying and failing to pull image") == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["app", "logs", "nope"], 2, "application 'nope' not found (see `trueup app list`)"),
        (["app", "logs", "identity-api-prod-us", "--kind", "Deployment"], 2, "--kind needs --name"),
        (
            ["app", "logs", "identity-api-prod-us", "-f"],
            2,
            "--follow reads one pod; identity-api-prod-us has 3",
        ),
        (
            ["app", "logs", "identity-api-prod-us", "--kind", "Service", "--name", "identity-api"],
            2,
            "no pods found for Service identity-api",
        ),
        (["app", "logs", "identity-api-prod-us", "--tail", "-1"], 2, "'-1': give 0 or more lines"),
        (["app", "events", "nope"], 2, "application 'nope' not found"),
        (["changes", "nope"], 2, "application 'nope' not found"),
        (["changes", "-p", "nope"], 2, "project 'nope' not found"),
        (
            ["changes", "--since", "yesterday"],
            2,
            "--since 'yesterday': give a duration such as 30m, 2h or 1d",
        ),
    ],
)
def test_bad_input_is_one_sentence(demo_workspace: Path, args: list[str], code: int, message: str) -> None:
    rc, _out, err = cli(demo_workspace, *args)
    assert rc == code and message in err.strip().splitlines()[-1], (
        err
    )  # one sentence (after usage, for parse errors)
    assert "Traceback" not in err


def test_changes(demo_workspace: Path) -> None:
    rc, out, err = cli(demo_workspace, "changes", "-o", "json")
    assert rc == 0, err
    items = json.loads(out)
    assert [c["time"] for c in items] == sorted((c["time"] for c in items), reverse=True)
    assert any(
        c["kind"] == "live-edit" and c["actor"] == "kubectl-edit" and c["app"] == "identity-api-prod-us"
        for c in items
    )
    assert any(
        c["kind"] == "commit" and c["app"] == "payments-api-prod-us" and c["deployed"] is False for c in items
    )
    rc, out, _ = cli(demo_workspace, "changes", "payments-api-prod-us", "--since", "1d")
    assert rc == 0 and "(not synced yet)" in out and "identity-api" not in out
    rc, out, _ = cli(demo_workspace, "changes", "-p", "risk", "-o", "json")
    assert {c["project"] for c in json.loads(out)} == {"risk"}
