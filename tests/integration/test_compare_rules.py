"""Compare-time rules end to end on sim: project checks, system ignoreDifferences, Lua health from
workspace settings, IgnoreExtraneous, and the repo-error grace period."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from console.engine import tracking
from console.engine.appstore import AppStore
from console.engine.refresh import refresh
from console.engine.workspace import load
from tests.helpers import application, make_workspace, project

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: "1"}
"""
DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "registry.example.invalid/web:1"}]
"""
WIDGET_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""
WIDGET = """apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
"""
LUA = """hs = {}
if obj.status ~= nil and obj.status.ready == true then
  hs.status = "Healthy"
  hs.message = "widget ready"
else
  hs.status = "Progressing"
  hs.message = "widget warming up"
end
return hs
"""


def _deploy(ws, app: str, objs: list[dict], namespace: str = "default") -> None:  # type: ignore[no-untyped-def]
    cluster = ws.open_cluster("dev")
    for obj in objs:
        res = cluster.resource_for(obj["apiVersion"], obj["kind"])
        obj = copy.deepcopy(obj)
        if res.namespaced:
            obj["metadata"]["namespace"] = namespace
        cluster.apply(
            tracking.set_tracking(
                obj,
                app,
                annotation=ws.settings.tracking_annotation,
                default_namespace=namespace,
                namespaced=res.namespaced,
            ),
            field_manager="trueup",
        )


def _status(ws, name: str) -> dict:  # type: ignore[no-untyped-def]
    return AppStore(ws.control()).get_app(name).get("status") or {}


def test_project_rejects_source_repo_and_kind(tmp_path: Path) -> None:
    ws, repo, _ = make_workspace(tmp_path, {"cm/cm.yaml": CM})
    control = ws.control()
    control.create(
        project(
            "locked",
            sourceRepos=["https://git.example.invalid/*"],
            destinations=[{"name": "dev", "namespace": "*"}],
        ),
        field_manager="t",
    )
    control.create(
        project(
            "no-cm",
            sourceRepos=["*"],
            destinations=[{"name": "dev", "namespace": "*"}],
            namespaceResourceWhitelist=[{"group": "apps", "kind": "Deployment"}],
        ),
        field_manager="t",
    )
    control.create(application("a-locked", repo, "cm", project="locked"), field_manager="t")
    control.create(application("a-nocm", repo, "cm", project="no-cm"), field_manager="t")
    control.create(application("a-noproj", repo, "cm", project="ghost"), field_manager="t")
    refresh(ws)
    conds = {c["type"]: c["message"] for c in _status(ws, "a-locked")["conditions"]}
    assert "InvalidSpecError" in conds and "is not permitted in project 'locked'" in conds["InvalidSpecError"]
    st = _status(ws, "a-nocm")
    res = st["resources"][0]
    assert res["status"] == "Unknown" and "not permitted in project no-cm" in res["message"]
    conds = {c["type"]: c["message"] for c in _status(ws, "a-noproj")["conditions"]}
    assert conds["InvalidSpecError"] == "Application referencing project ghost which does not exist"


def test_system_ignore_differences_and_lua_health_from_settings(tmp_path: Path) -> None:
    settings = {
        "resourceCustomizations": {
            "apps/Deployment": {"ignoreDifferences": "jsonPointers:\n- /spec/replicas\n"},
            "example.com/Widget": {"health.lua": LUA},
        }
    }
    ws, repo, _ = make_workspace(
        tmp_path,
        {"app/deploy.yaml": DEPLOY, "crd/crd.yaml": WIDGET_CRD, "widgets/w.yaml": WIDGET},
        settings=settings,
    )
    import yaml

    ws.control().create(application("web", repo, "app"), field_manager="t")
    ws.control().create(application("crd", repo, "crd"), field_manager="t")
    ws.control().create(application("widgets", repo, "widgets"), field_manager="t")
    _deploy(ws, "crd", [yaml.safe_load(WIDGET_CRD)])
    live = yaml.safe_load(DEPLOY)
    _deploy(ws, "web", [live])
    _deploy(ws, "widgets", [yaml.safe_load(WIDGET)])
    dev = ws.open_cluster("dev")
    dep = dev.get("apps/v1", "Deployment", "default", "web")
    dep["spec"]["replicas"] = 7
    dev.update(dep, field_manager="someone-else")
    dev.tick()  # type: ignore[attr-defined]
    ws = load(tmp_path)
    refresh(ws)
    assert _status(ws, "web")["sync"]["status"] == "Synced"  # replicas differ but are ignored system-wide
    st = _status(ws, "widgets")
    assert st["health"]["status"] == "Progressing"
    assert st["resources"][0]["health"] == {"status": "Progressing", "message": "widget warming up"}
    w = dev.get("example.com/v1", "Widget", "default", "w1")
    w["status"] = {"ready": True}
    dev.update(w, field_manager="widget-controller", subresource="status")
    refresh(ws)
    assert _status(ws, "widgets")["health"]["status"] == "Healthy"


def test_ignore_extraneous_keeps_app_synced(tmp_path: Path) -> None:
    import yaml

    ws, repo, work = make_workspace(tmp_path, {"app/cm.yaml": CM})
    ws.control().create(application("app", repo, "app"), field_manager="t")
    extra = yaml.safe_load(CM)
    extra["metadata"]["name"] = "extra"
    extra["metadata"]["annotations"] = {"argocd.argoproj.io/compare-options": "IgnoreExtraneous"}
    _deploy(ws, "app", [yaml.safe_load(CM), extra])
    refresh(ws)
    st = _status(ws, "app")
    assert st["sync"]["status"] == "Synced"
    extra_res = next(r for r in st["resources"] if r["name"] == "extra")
    assert extra_res["status"] == "OutOfSync" and extra_res["requiresPruning"] is True
    # without the compare option the extraneous object makes the app OutOfSync
    cm = ws.open_cluster("dev").get("v1", "ConfigMap", "default", "extra")
    del cm["metadata"]["annotations"]["argocd.argoproj.io/compare-options"]
    ws.open_cluster("dev").update(cm, field_manager="t")
    refresh(ws)
    assert _status(ws, "app")["sync"]["status"] == "OutOfSync"


def test_repo_error_grace_period_keeps_last_good_status(tmp_path: Path) -> None:
    import yaml

    ws, repo, _ = make_workspace(
        tmp_path, {"app/cm.yaml": CM}, settings={"repoErrorGracePeriodSeconds": 3600}
    )
    ws.control().create(application("app", repo, "app"), field_manager="t")
    _deploy(ws, "app", [yaml.safe_load(CM)])
    refresh(ws)
    good = _status(ws, "app")
    assert good["sync"]["status"] == "Synced"
    shutil.move(tmp_path / "repo.git", tmp_path / "moved.git")  # the repository becomes unreachable
    refresh(load(tmp_path))
    kept = _status(ws, "app")
    assert kept["sync"] == good["sync"] and "conditions" not in kept
    assert kept["sourceErrorSince"]
    # past the grace period the error surfaces as ComparisonError + Unknown
    (tmp_path / "trueup.yaml").write_text((tmp_path / "trueup.yaml").read_text().replace("3600", "0"))
    refresh(load(tmp_path))
    st = _status(ws, "app")
    assert st["sync"]["status"] == "Unknown"
    assert any(c["type"] == "ComparisonError" and "unreachable" in c["message"] for c in st["conditions"])
    # the repository comes back: the error clears
    shutil.move(tmp_path / "moved.git", tmp_path / "repo.git")
    refresh(load(tmp_path))
    st = _status(ws, "app")
    assert st["sync"]["status"] == "Synced" and "conditions" not in st and "sourceErrorSince" not in st


def test_repeated_resource_warning_counts_occurrences(tmp_path: Path) -> None:
    three = CM + "---\n" + CM.replace('"1"', '"2"') + "---\n" + CM.replace('"1"', '"3"')
    ws, repo, _ = make_workspace(tmp_path, {"app/cm.yaml": three})
    ws.control().create(application("app", repo, "app"), field_manager="t")
    refresh(ws)
    conds = {c["type"]: c["message"] for c in _status(ws, "app")["conditions"]}
    assert (
        conds["RepeatedResourceWarning"]
        == "Resource /ConfigMap//cm appeared 3 times among application resources."  # as rendered, before defaulting the namespace
    )
