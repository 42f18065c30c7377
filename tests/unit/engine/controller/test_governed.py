"""The controller through the governance gate: auto-sync and self-heal are audited as
system:trueup-controller (intent + result, and an Event), a sync window skips auto-sync with Argo's
message and holds an operation in flight, and a suspension skips auto-sync until it expires."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.engine.audit.chain import AuditChain
from console.engine.audit.verify import verify_chain
from console.engine.governance import breakglass
from console.engine.sync import operation as op
from console.engine.sync.executor import process_operation
from tests.unit.engine.controller.test_loop import Fleet, _actions, _skip, make_fleet

DENY_ALWAYS = {"kind": "deny", "schedule": "0 0 * * *", "duration": "24h", "applications": ["auto"]}


def _project(fleet: Fleet, windows: list[dict[str, object]]) -> None:
    fleet.control.create(
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team", "namespace": "trueup"},
            "spec": {
                "sourceRepos": ["*"],
                "destinations": [{"name": "dev", "namespace": "*"}],
                "syncWindows": windows,
            },
        },
        field_manager="test",
    )


def test_auto_sync_is_audited_as_the_controller(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    fleet.add_app("auto", "apps/auto", {"automated": {"selfHeal": True}})
    ctl = fleet.controller()
    out = ctl.run_once()
    assert "sync" in _actions(out, "auto")
    recs = AuditChain(fleet.control).records()
    auto = [r for r in recs if r["app"] == "auto" and r["action"] == "auto-sync"]
    assert [r["phase"] for r in auto] == ["intent", "result"]
    assert auto[0]["actor"]["user"] == "system:trueup-controller" and auto[0]["actor"]["verified"] is True
    assert auto[1]["outcome"] == "requested" and auto[1]["intentSeq"] == auto[0]["seq"]
    events = fleet.control.list("events.k8s.io/v1", "Event", "trueup").items
    assert any(e["regarding"]["name"] == "auto" and e["reason"] == "ActionRequested" for e in events)
    # self-heal after a drift is audited as its own action
    for _ in range(20):
        ctl.run_once()
        if not op.is_in_progress(fleet.app("auto")):
            break
    fleet.edit("auto-a", "drifted")
    fleet.advance(10)
    ctl.request_refresh("auto")
    for _ in range(5):
        out = ctl.run_once()
        if "self-heal" in _actions(out, "auto"):
            break
        fleet.advance(10)
    heals = [r for r in AuditChain(fleet.control).records() if r["action"] == "self-heal"]
    assert heals and heals[0]["actor"]["user"] == "system:trueup-controller"
    assert verify_chain(AuditChain(fleet.control)).ok


def test_a_deny_window_skips_auto_sync_with_argos_message(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    _project(fleet, [DENY_ALWAYS])
    fleet.add_app("auto", "apps/auto", {"automated": {}}, project="team")
    out = fleet.controller().run_once()
    assert _skip(out, "auto").reason == "Sync prevented by sync window"
    assert not op.is_in_progress(fleet.app("auto"))
    assert not [r for r in AuditChain(fleet.control).records() if r["app"] == "auto"]


def test_an_operation_in_flight_waits_for_the_window(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    _project(
        fleet, [{"kind": "allow", "schedule": "0 13 * * *", "duration": "1h", "applications": ["manual"]}]
    )
    fleet.add_app("manual", "apps/manual", project="team")
    op.request_sync(fleet.store, "manual", initiated_by={"automated": True})  # as an auto-sync would
    assert process_operation(fleet.ws, "manual", holder="t", now=fleet.now()) == "Running"
    state = op.operation_state(fleet.app("manual")) or {}
    assert state["message"] == "Sync operation blocked by sync window"
    # the window opens at 13:00 (the clock is frozen at 12:00): the operation proceeds
    fleet.advance(3600 + 60)
    for _ in range(20):
        phase = process_operation(fleet.ws, "manual", holder="t", now=fleet.now())
        if phase in op.COMPLETED_PHASES:
            break
    assert phase == "Succeeded"


def test_a_suspension_skips_auto_sync_until_it_expires(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    fleet.add_app("auto", "apps/auto", {"automated": {}})
    suspension = breakglass.Suspension("auto-sync", fleet.now() + timedelta(minutes=30), "alice", "INC-1", 0)
    op.update_app(fleet.store, "auto", lambda app: breakglass.set_suspension(app, suspension))
    ctl = fleet.controller()
    out = ctl.run_once()
    assert _skip(out, "auto").reason.startswith("auto-sync suspended until ")
    fleet.advance(31 * 60)
    out = ctl.run_once()
    assert "restore" in _actions(out, "auto") and "sync" in _actions(out, "auto")
    assert breakglass.suspension_of(fleet.app("auto")) is None
    lifted = [r for r in AuditChain(fleet.control).records() if r["action"] == "suspension-expired"]
    assert lifted and lifted[-1]["outcome"] == "succeeded" and lifted[-1]["reason"] == "INC-1"
