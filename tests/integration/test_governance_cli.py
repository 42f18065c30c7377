"""Governance through the real CLI on the demo fleet (issue 9's "done when"): RBAC denials, the deny
window, break-glass, the audit chain (verify, export tampering, incident report), Events, secrets
kept out of records, auto-sync suspension and its expiry by the controller, windows on an operation
in flight."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.cluster.sim import SimCluster
from console.engine.appstore import AppStore
from console.engine.governance import breakglass
from console.engine.sync import executor as ex
from console.engine.sync import operation as op
from console.engine.workspace import load
from tests.conftest import run_cli

SECRET = "demo-s3cr3t-value"  # payments-api's DATABASE_PASSWORD in the demo repo
EU, US, RISK = "payments-api-prod-eu", "payments-api-prod-us", "risk-engine-prod-us"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("gov") / "ws"
    assert run_cli("demo", "init", str(ws)).returncode == 0
    assert run_cli("-w", str(ws), "refresh").returncode == 0
    return ws


def cli(demo: Path, user: str, *args: str) -> Any:
    return run_cli("-w", str(demo), *args, env={"TRUEUP_USER": user})


def records(demo: Path) -> list[dict[str, Any]]:
    r = cli(demo, "carol", "audit", "list", "-o", "json")
    assert r.returncode == 0, r.stderr
    out: list[dict[str, Any]] = json.loads(r.stdout)
    return out


def one_line(r: Any) -> str:
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return str(lines[0])


def test_done_when_on_the_demo_fleet(demo: Path) -> None:
    # carol (readonly) cannot sync: exit 3 naming the missing permission, and a `denied` record
    r = cli(demo, "carol", "app", "sync", US)
    assert r.returncode == 3
    assert one_line(r).startswith(
        f"trueup: permission denied: carol may not sync applications/payments/{US} "
        f"(needs: applications, sync, payments/{US})"
    )
    denied = [x for x in records(demo) if x["actor"]["user"] == "carol" and x["outcome"] == "denied"]
    assert denied and denied[-1]["app"] == US and denied[-1]["actor"]["verified"] is False
    assert denied[-1]["actor"]["groups"] == ["readonly"]

    # bob: the deny window blocks prod-eu (exit 4, naming the window and when it ends)
    r = cli(demo, "bob", "app", "sync", EU)
    assert r.returncode == 4
    line = one_line(r)
    assert f"cannot sync {EU}: blocked by sync window deny '0 0 * * *' for 24h (Europe/Berlin)" in line
    assert "EU payments change freeze (peak season)" in line and "it ends at " in line
    assert f"--break-glass --reason <incident> --confirm {EU}" in line
    # ... risk is not his (exit 3), his own prod-us syncs
    r = cli(demo, "bob", "app", "sync", RISK)
    assert r.returncode == 3 and "bob may not sync applications/risk/risk-engine-prod-us" in r.stderr
    r = cli(demo, "bob", "app", "sync", US)
    assert r.returncode == 0, r.stderr
    assert "Phase:         Succeeded" in r.stdout

    # bob cannot break glass (no override)
    r = cli(demo, "bob", "app", "sync", EU, "--break-glass", "--reason", "INC-41", "--confirm", EU)
    assert r.returncode == 3 and f"(needs: applications, override, payments/{EU})" in r.stderr

    # alice (sre-oncall = role:admin) breaks glass through the window
    r = cli(demo, "alice", "app", "sync", EU, "--break-glass", "--reason", "INC-42", "--confirm", EU)
    assert r.returncode == 0, r.stderr
    assert "Phase:         Succeeded" in r.stdout

    # the incident report shows it
    r = cli(demo, "alice", "audit", "report", "--incident", "INC-42")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# Incident INC-42: audit timeline")
    assert "Audit chain: verified" in r.stdout
    section = r.stdout.split("## Audit records", 1)[1]
    rows = [ln for ln in section.splitlines() if ln.startswith("| 20")]
    assert len(rows) == 2  # intent and result
    assert all(f"payments/{EU}" in ln and "alice (unverified)" in ln and "BREAK-GLASS" in ln for ln in rows)
    assert "| intent | pending |" in rows[0] and "| result | succeeded |" in rows[1]
    report = json.loads(cli(demo, "alice", "audit", "report", "--incident", "INC-42", "-o", "json").stdout)
    assert report["applications"] == [EU] and report["breakGlass"] == 1 and report["chain"]["ok"]
    [check] = report["policyChecks"]  # the review document: what the gate decided, and why
    assert check["rbac"] == f"allowed (applications, sync, payments/{EU})"
    assert check["windows"].startswith("break-glass overrode: ") and "window" in check["windows"]
    [action] = report["actions"]
    assert (
        action["outcome"] == "succeeded" and action["breakGlass"] and action["actor"] == "alice (unverified)"
    )

    # the reason is on the operation and in history
    r = cli(demo, "carol", "app", "history", EU, "-o", "json")
    last = json.loads(r.stdout)[-1]
    assert {"name": "reason", "value": "INC-42"} in last["info"]
    assert last["initiatedBy"] == {"username": "alice", "automated": False}
    r = cli(demo, "carol", "app", "history", EU)
    assert "INC-42 [break-glass, audit record" in r.stdout

    # the chain verifies
    r = cli(demo, "carol", "audit", "verify")
    assert r.returncode == 0 and r.stdout.startswith("audit chain verified (control cluster in-cluster)")


def test_break_glass_flags_are_checked(demo: Path) -> None:
    r = cli(
        demo, "alice", "app", "sync", EU, "--break-glass", "--reason", "INC-43", "--confirm", "payments-api"
    )
    assert r.returncode == 2 and f"needs --confirm {EU}" in one_line(r)
    r = cli(demo, "alice", "app", "sync", EU, "--break-glass", "--confirm", EU)
    assert r.returncode == 2 and "needs --reason naming the incident" in one_line(r)
    r = cli(demo, "alice", "app", "sync", EU, "--break-glass", "--reason", "  ", "--confirm", EU)
    assert r.returncode == 2


def test_events_on_the_application(demo: Path) -> None:
    control = load(demo).control()
    events = control.list("events.k8s.io/v1", "Event", "trueup").items
    denied = [e for e in events if e["reason"] == "PermissionDenied" and e["regarding"]["name"] == US]
    assert (
        denied and denied[0]["type"] == "Warning" and denied[0]["note"].startswith("carol (unverified) sync")
    )
    glass = [e for e in events if e["reason"] == "BreakGlass" and e["regarding"]["name"] == EU]
    assert glass and "INC-42" in glass[0]["note"]
    assert (
        glass[0]["regarding"]["kind"] == "Application"
        and glass[0]["reportingController"] == "trueup.dev/trueup"
    )
    # the same Events through core/v1 (one storage)
    core = control.list("v1", "Event", "trueup").items
    assert {e["metadata"]["name"] for e in core} >= {e["metadata"]["name"] for e in events}


def test_secret_values_never_enter_a_record(demo: Path, tmp_path: Path) -> None:
    export = tmp_path / "audit.jsonl"
    r = cli(demo, "alice", "audit", "export", str(export))
    assert r.returncode == 0, r.stderr
    text = export.read_text()
    assert "payments-api" in text  # the payments syncs are in it ...
    assert SECRET not in text  # ... and the Secret they applied is not
    events = json.dumps(load(demo).control().list("v1", "Event", "trueup").items)
    assert SECRET not in events
    r = cli(demo, "alice", "audit", "list", "-o", "wide")
    assert SECRET not in r.stdout


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _verify_file(demo: Path, path: Path, lines: list[str]) -> Any:
    path.write_text("\n".join(lines) + "\n")
    return cli(demo, "carol", "audit", "verify", "--file", str(path))


def test_verify_detects_tampered_exports(demo: Path, tmp_path: Path) -> None:
    export = tmp_path / "chain.jsonl"
    assert cli(demo, "carol", "audit", "export", str(export)).returncode == 0
    lines = _lines(export)
    assert len(lines) >= 6
    r = cli(demo, "carol", "audit", "verify", "--file", str(export))
    assert r.returncode == 0 and "audit chain verified (chain.jsonl)" in r.stdout

    # one byte changed (an actor's name)
    changed = list(lines)
    rec = json.loads(changed[2])
    changed[2] = changed[2].replace(
        f'"user":"{rec["actor"]["user"]}"', f'"user":"{rec["actor"]["user"][:-1]}X"', 1
    )
    assert changed[2] != lines[2] and len(changed[2]) == len(lines[2])
    r = _verify_file(demo, tmp_path / "edited.jsonl", changed)
    assert r.returncode == 1
    assert f"record {rec['seq']} (line 3) does not match its hash: the record was edited" in one_line(r)

    # one record removed
    r = _verify_file(demo, tmp_path / "removed.jsonl", lines[:3] + lines[4:])
    seq = json.loads(lines[3])["seq"]
    assert r.returncode == 1 and f"record {seq} missing (deleted)" in one_line(r)

    # two records swapped
    swapped = list(lines)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    r = _verify_file(demo, tmp_path / "swapped.jsonl", swapped)
    assert r.returncode == 1 and "(line 3) comes before record" in one_line(r) and "reordered" in r.stderr

    # the tail cut
    r = _verify_file(demo, tmp_path / "cut.jsonl", lines[:-2])
    assert r.returncode == 1 and "the tail was cut" in one_line(r)

    # json output names the first bad record
    (tmp_path / "cut2.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    r = cli(demo, "carol", "audit", "verify", "--file", str(tmp_path / "cut2.jsonl"), "-o", "json")
    data = json.loads(r.stdout)
    assert r.returncode == 1 and data["ok"] is False
    assert data["firstBadRecord"]["seq"] == json.loads(lines[-1])["seq"]


def test_audit_list_filters(demo: Path) -> None:
    r = cli(demo, "carol", "audit", "list", "--actor", "bob", "-o", "json")
    rows = json.loads(r.stdout)
    assert rows and all(x["actor"]["user"] == "bob" for x in rows)
    r = cli(demo, "carol", "audit", "list", "--app", RISK, "-o", "json")
    assert [x["outcome"] for x in json.loads(r.stdout)][:1] == ["denied"]
    r = cli(demo, "carol", "audit", "list", "--since", "2h", "-o", "json")
    assert len(json.loads(r.stdout)) == len(records(demo))
    r = cli(demo, "carol", "audit", "list", "--since", "yesterday")
    assert r.returncode == 2 and "--since 'yesterday'" in one_line(r)
    r = cli(demo, "carol", "audit", "list")
    assert r.stdout.splitlines()[0].split() == [
        "SEQ",
        "TIME",
        "ACTOR",
        "ACTION",
        "APP",
        "PHASE",
        "OUTCOME",
        "REASON",
    ]


def test_windows_show_in_get_and_list(demo: Path) -> None:
    r = cli(demo, "carol", "app", "get", EU)
    assert "Sync Window:   Sync Denied" in r.stdout
    assert "Windows:       deny:0 0 * * *:24h (active, ends " in r.stdout
    r = cli(demo, "carol", "app", "list", "-o", "wide")
    header = r.stdout.splitlines()[0].split()
    assert "SYNC-WINDOW" in header
    eu = next(ln for ln in r.stdout.splitlines() if ln.startswith(EU))
    assert "Sync Denied" in eu
    rows = json.loads(cli(demo, "carol", "app", "list", "-o", "json").stdout)
    eu_row = next(x for x in rows if x["name"] == EU)
    assert (
        eu_row["syncWindows"]["state"] == "Sync Denied"
        and eu_row["syncWindows"]["active"][0]["kind"] == "deny"
    )
    assert next(x for x in rows if x["name"] == US)["syncWindows"] is None


def test_operation_in_flight_is_blocked_by_the_window(demo: Path) -> None:
    """An operation set without going through the gate (kubectl, a script) waits, Running, with
    Argo's message; a forged break-glass reference does not open the window."""
    ws = load(demo)
    store = AppStore(ws.control())
    carol_denied = next(x for x in records(demo) if x["outcome"] == "denied")
    forged = [{"name": breakglass.INFO_BREAK_GLASS, "value": str(carol_denied["seq"])}]
    op.request_sync(store, EU, initiated_by={"username": "mallory"}, info=forged)
    phase = ex.process_operation(ws, EU, holder="test")
    state = op.operation_state(store.get_app(EU)) or {}
    assert phase == "Running" and state["message"] == "Sync operation blocked by sync window"
    assert not state.get("syncResult", {}).get("resources")
    # break glass ends it (terminating is break-glass too)
    r = cli(demo, "alice", "app", "terminate-op", EU, "--break-glass", "--reason", "INC-44", "--confirm", EU)
    assert r.returncode == 0, r.stderr
    assert "operation terminated" in r.stdout


def test_auto_sync_suspension_and_its_expiry(demo: Path) -> None:
    app = "identity-api-prod-us"  # auto-sync on, drifted by a live edit in the demo
    r = cli(demo, "alice", "app", "set", app, "--auto-sync", "off", "--for", "30m")
    assert (
        r.returncode == 4
        and "suspending auto-sync of identity-api-prod-us is a break-glass action" in one_line(r)
    )
    r = cli(
        demo,
        "bob",
        "app",
        "set",
        app,
        "--auto-sync",
        "off",
        "--break-glass",
        "--reason",
        "INC-50",
        "--confirm",
        app,
    )
    assert r.returncode == 3  # bob may not update identity apps
    args = (
        "app",
        "set",
        app,
        "--auto-sync",
        "off",
        "--for",
        "30m",
        "--reason",
        "INC-50",
        "--break-glass",
        "--confirm",
        app,
    )
    r = cli(demo, "alice", *args)
    assert r.returncode == 0, r.stderr
    assert "auto-sync suspended until" in r.stdout and "by alice (INC-50)" in r.stdout
    wide = cli(demo, "carol", "app", "list", "-o", "wide").stdout
    assert "on (suspended)" in next(ln for ln in wide.splitlines() if ln.startswith(app))
    assert "Suspended:" in cli(demo, "carol", "app", "get", app).stdout

    ws = load(demo)
    control = ws.control()
    assert isinstance(control, SimCluster)
    # the controller does not auto-sync while suspended ...
    r = cli(demo, "alice", "controller", "run", "--once", "--log-format", "text")
    assert r.returncode == 0, r.stderr
    assert "Skipping auto-sync: auto-sync suspended until" in r.stderr
    # ... and lifts the suspension when it expires, with an audit record of its own
    control.clock.advance(31 * 60)
    r = cli(demo, "alice", "controller", "run", "--once", "--log-format", "text")
    assert r.returncode == 0, r.stderr
    restored = [x for x in records(demo) if x["action"] == "suspension-expired" and x["app"] == app]
    assert [x["phase"] for x in restored] == ["intent", "result"]
    assert restored[0]["actor"] == {
        "user": "system:trueup-controller",
        "groups": [],
        "verified": True,
        "source": "system",
    }
    assert restored[0]["reason"] == "INC-50" and restored[1]["outcome"] == "succeeded"
    assert breakglass.suspension_of(AppStore(control).get_app(app)) is None


def test_confirm_deletion_is_break_glass(demo: Path) -> None:
    r = cli(demo, "alice", "app", "confirm-deletion", US)
    assert r.returncode == 4 and "approving a deletion" in r.stderr
    r = cli(
        demo, "alice", "app", "confirm-deletion", US, "--break-glass", "--reason", "CHG-7", "--confirm", US
    )
    assert r.returncode == 0, r.stderr
    annotations = AppStore(load(demo).control()).get_app(US)["metadata"]["annotations"]
    assert "argocd.argoproj.io/deletion-approved" in annotations


def test_rbac_can_and_whoami(demo: Path, tmp_path: Path) -> None:
    can = ("rbac", "can")
    assert (
        cli(demo, "carol", *can, "payments-dev", "sync", "applications", f"payments/{US}").stdout == "Yes\n"
    )
    r = cli(demo, "carol", *can, "role:readonly", "sync", "applications", f"payments/{US}")
    assert (r.returncode, r.stdout) == (1, "No\n")
    # the project role binds the group too (proj:payments:deployer)
    assert (
        cli(
            demo, "carol", *can, "proj:payments:ci", "sync", "applications", "payments/payments-api-staging"
        ).returncode
        == 0
    )
    assert (
        cli(demo, "carol", *can, "proj:payments:ci", "sync", "applications", f"payments/{US}").returncode == 1
    )
    r = cli(demo, "carol", *can, "anyone", "get", "applications", "x/y", "--default-role", "")
    assert r.returncode == 1
    cm = tmp_path / "argocd-rbac-cm.yaml"
    cm.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-rbac-cm}\ndata:\n"
        "  policy.csv: |\n    g, ops, role:admin\n  policy.default: ''\n"
    )
    assert (
        cli(demo, "carol", *can, "ops", "delete", "applications", "a/b", "--policy-file", str(cm)).returncode
        == 0
    )
    assert (
        cli(demo, "carol", *can, "dev", "get", "applications", "a/b", "--policy-file", str(cm)).returncode
        == 1
    )
    r = cli(demo, "carol", *can, "ops", "launch", "applications", "a/b")
    assert r.returncode == 2 and "unknown RBAC action 'launch'" in one_line(r)
    r = cli(demo, "carol", *can, "ops", "get", "apps", "a/b")
    assert r.returncode == 2 and "unknown RBAC resource 'apps'" in one_line(r)

    who = json.loads(cli(demo, "dave", "whoami", "-o", "json").stdout)
    assert who["user"] == "dave" and who["groups"] == ["risk-dev"] and who["verified"] is False
    assert who["source"] == "$TRUEUP_USER" and who["policy"]["defaultRole"] == "role:readonly"
    text = cli(demo, "dave", "whoami").stdout
    assert "dave (unverified)" in text and "UNVERIFIED" in text
    # impersonation needs `accounts, impersonate`; role:admin does not have it
    r = cli(demo, "alice", "--as", "bob", "whoami")
    assert (
        r.returncode == 3
        and "alice (unverified) may not impersonate bob (needs: accounts, impersonate, bob)" in r.stderr
    )
