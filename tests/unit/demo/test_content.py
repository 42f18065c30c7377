"""The demo fleet's content: the Git repo, the commit that puts two apps OutOfSync, the workspace.

`trueup demo init` seeds its story from these files (one commit ahead for payments-api prod-us and
prod-eu, a broken risk-engine image in prod-eu, an HPA fighting Git over replicas), so the tests pin
that story down with the real `kubectl kustomize` and the engine's own YAML loader.
"""

from __future__ import annotations

import csv
import fnmatch
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import casbin
import pytest
from casbin.model import Model
from croniter import croniter

from console.engine import yamlsafe

ROOT = Path(__file__).resolve().parents[3]
CONTENT = ROOT / "console" / "demo" / "content"
REPO = CONTENT / "repo"
AHEAD = CONTENT / "commit-ahead"
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"
PLACEHOLDER = "__REPO_URL__"
# Assembled so that this test file does not itself contain the demo secret.
SECRET_VALUE = "demo-" + "s3cr3t-value"
BROKEN_IMAGE = "registry.acme.example/risk/engine:2.4.0-rc1"

Obj = dict[str, Any]

# The fleet table of the brief: app | project | source path | tool | cluster | namespace | sync policy.
_TABLE = """
platform-namespaces-prod-us | platform          | platform/namespaces/overlays/prod-us | Kustomize | prod-us | -        | auto prune selfHeal
platform-namespaces-prod-eu | platform          | platform/namespaces/overlays/prod-eu | Kustomize | prod-eu | -        | auto prune selfHeal
payments-api-staging        | payments          | payments/api/overlays/staging        | Kustomize | staging | payments | auto prune selfHeal
payments-api-prod-us        | payments          | payments/api/overlays/prod-us        | Kustomize | prod-us | payments | manual
payments-api-prod-eu        | payments          | payments/api/overlays/prod-eu        | Kustomize | prod-eu | payments | manual
payments-worker-prod-us     | payments          | payments/worker/overlays/prod-us     | Kustomize | prod-us | payments | auto selfHeal
risk-engine-prod-us         | risk              | risk/engine/overlays/prod-us         | Kustomize | prod-us | risk     | auto prune selfHeal
risk-engine-prod-eu         | risk              | risk/engine/overlays/prod-eu         | Kustomize | prod-eu | risk     | auto prune selfHeal
identity-api-prod-us        | customer-identity | identity/api/prod-us                 | Directory | prod-us | identity | auto prune
identity-api-prod-eu        | customer-identity | identity/api/prod-eu                 | Directory | prod-eu | identity | auto prune
"""


def _parse_table(text: str) -> dict[str, tuple[str, str, str, str, str, bool, bool, bool]]:
    """app -> (project, path, tool, cluster, namespace, automated, prune, selfHeal)."""
    rows: dict[str, tuple[str, str, str, str, str, bool, bool, bool]] = {}
    for line in text.strip().splitlines():
        app, project, path, tool, cluster, namespace, policy = (c.strip() for c in line.split("|"))
        flags = policy.split()
        ns = "" if namespace == "-" else namespace
        rows[app] = (project, path, tool, cluster, ns, "auto" in flags, "prune" in flags, "selfHeal" in flags)
    return rows


APPS = _parse_table(_TABLE)
CHANGED_IN_COMMIT_2 = {"payments-api-prod-us", "payments-api-prod-eu"}
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
    "CustomResourceDefinition", "PriorityClass", "IngressClass",
}  # fmt: skip
# apiVersions the sim serves (core, apps, batch, networking.k8s.io, autoscaling/v2, policy/v1, rbac).
SIM_API_VERSIONS = {
    "v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "autoscaling/v2", "policy/v1",
    "rbac.authorization.k8s.io/v1",
}  # fmt: skip


def _yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def _load(path: Path, repo_url: str = "file:///srv/git/acme-fleet.git") -> list[Obj]:
    text = path.read_text().replace(PLACEHOLDER, repo_url)
    return list(yamlsafe.iter_objects(yamlsafe.load_all(text, str(path)), str(path)))


def _kustomize(path: Path) -> list[Obj]:
    proc = subprocess.run(
        [str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"kubectl kustomize {path} failed: {proc.stderr}"
    return list(yamlsafe.iter_objects(yamlsafe.load_all(proc.stdout, str(path)), str(path)))


def _render_tree(repo: Path) -> dict[str, list[Obj]]:
    """Desired manifests of every Application, rendered from `repo` the way the engine will."""

    def render(app: str) -> list[Obj]:
        _, path, tool, *_ = APPS[app]
        if tool == "Kustomize":
            return _kustomize(repo / path)
        return [obj for f in _yaml_files(repo / path) for obj in _load(f)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(APPS, pool.map(render, APPS), strict=True))


@pytest.fixture(scope="module")
def commit2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Commit 1 with commit-ahead/ overlaid, as `demo init` builds commit 2."""
    tree = tmp_path_factory.mktemp("commit2") / "repo"
    shutil.copytree(REPO, tree)
    shutil.copytree(AHEAD, tree, dirs_exist_ok=True)
    return tree


@pytest.fixture(scope="module")
def renders1() -> dict[str, list[Obj]]:
    return _render_tree(REPO)


@pytest.fixture(scope="module")
def renders2(commit2: Path) -> dict[str, list[Obj]]:
    return _render_tree(commit2)


@pytest.fixture(scope="module")
def applications() -> dict[str, Obj]:
    apps: dict[str, Obj] = {}
    for path in _yaml_files(REPO / "apps"):
        for obj in _load(path):
            if obj["kind"] == "Application":
                assert obj["metadata"]["name"] not in apps, f"duplicate Application in {path}"
                apps[obj["metadata"]["name"]] = obj
    return apps


@pytest.fixture(scope="module")
def projects() -> dict[str, Obj]:
    objs = [o for p in _yaml_files(REPO / "apps" / "projects") for o in _load(p)]
    assert all(o["kind"] == "AppProject" for o in objs)
    return {o["metadata"]["name"]: o for o in objs}


@pytest.fixture(scope="module")
def workspace() -> Obj:
    doc = yamlsafe.load_one((CONTENT / "trueup.yaml").read_text(), "trueup.yaml")
    assert isinstance(doc, dict)
    return doc


def _find(objs: list[Obj], kind: str, name: str) -> Obj:
    hits = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected one {kind}/{name}, found {len(hits)}"
    return hits[0]


# --- parsing and rendering -------------------------------------------------------------------


def test_every_yaml_file_parses_into_objects_with_the_engines_loader() -> None:
    files = _yaml_files(CONTENT)
    assert len(files) > 40
    for path in files:
        objs = _load(path)
        assert objs, f"{path} holds no documents"
        for obj in objs:
            assert obj.get("apiVersion") and obj.get("kind"), f"{path}: object without apiVersion/kind"
            if obj["kind"] not in {"Kustomization", "Workspace"}:
                assert obj.get("metadata", {}).get("name"), f"{path}: {obj['kind']} without a name"


def test_a_bad_overlay_really_fails_to_render(tmp_path: Path) -> None:
    """Guards the render helper itself: a broken kustomization must not pass silently."""
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(AssertionError, match="failed"):
        _kustomize(tmp_path)


@pytest.mark.parametrize("which", ["commit1", "commit2"])
def test_every_app_renders_with_namespaced_objects_namespaced(
    which: str, renders1: dict[str, list[Obj]], renders2: dict[str, list[Obj]]
) -> None:
    renders = renders1 if which == "commit1" else renders2
    for app, objs in renders.items():
        assert objs, f"{app} renders nothing"
        for obj in objs:
            ident = f"{app}: {obj['kind']}/{obj['metadata']['name']}"
            assert obj["apiVersion"] in SIM_API_VERSIONS, f"{ident} uses {obj['apiVersion']}"
            if obj["kind"] in CLUSTER_SCOPED:
                assert "namespace" not in obj["metadata"], f"{ident} is cluster-scoped"
            else:
                assert obj["metadata"].get("namespace"), f"{ident} has no namespace"
        keys = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objs]
        assert len(keys) == len(set(keys)), f"{app} renders duplicate objects"


def test_every_kustomize_directory_is_used_by_an_app_or_is_a_base() -> None:
    overlays = {
        str(p.parent.relative_to(REPO)) for p in REPO.rglob("kustomization.yaml") if p.parent.name != "base"
    }
    assert overlays == {path for _, path, tool, *_ in APPS.values() if tool == "Kustomize"}


# --- Applications, projects, root ------------------------------------------------------------


def test_applications_match_the_fleet_table(applications: dict[str, Obj]) -> None:
    assert set(applications) == set(APPS)
    for name, app in applications.items():
        project, path, tool, cluster, namespace, automated, prune, self_heal = APPS[name]
        meta, spec = app["metadata"], app["spec"]
        assert app["apiVersion"] == "trueup.dev/v1alpha1"
        assert meta["namespace"] == "trueup"
        assert meta["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
        assert {"acme.example/team", "acme.example/env"} <= set(meta["labels"])
        assert spec["project"] == project
        source = spec["source"]
        assert source["repoURL"] == "file:///srv/git/acme-fleet.git"
        assert (source["path"], source["targetRevision"]) == (path, "main")
        assert spec["destination"] == (
            {"name": cluster, "namespace": namespace} if namespace else {"name": cluster}
        )
        policy = spec.get("syncPolicy") or {}
        if automated:
            assert policy["automated"] == {"prune": prune, "selfHeal": self_heal}, name
        else:
            assert "automated" not in policy, name
        expected_options = ["CreateNamespace=true"] if name == "payments-api-staging" else []
        assert policy.get("syncOptions", []) == expected_options, name
        runbooks = [i["value"] for i in spec["info"] if i["name"] == "Runbook"]
        assert runbooks and runbooks[0].startswith("https://runbooks.example.invalid/")
        has_kustomization = (REPO / path / "kustomization.yaml").is_file()
        assert has_kustomization == (tool == "Kustomize"), f"{name}: {path} is not a {tool} source"
        assert (REPO / "apps" / project).is_dir() and _yaml_files(REPO / "apps" / project)
        assert any(name in p.name for p in _yaml_files(REPO / "apps" / project)), (
            f"{name} not in apps/{project}/"
        )


def test_payments_worker_leaves_replicas_to_the_hpa(
    applications: dict[str, Obj], renders1: dict[str, list[Obj]]
) -> None:
    app = applications["payments-worker-prod-us"]
    assert app["spec"]["ignoreDifferences"] == [
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}
    ]
    objs = renders1["payments-worker-prod-us"]
    hpa = _find(objs, "HorizontalPodAutoscaler", "payments-worker")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "payments-worker",
    }
    assert hpa["metadata"]["annotations"]["sim.trueup.dev/desired-replicas"] == "4"
    assert _find(objs, "Deployment", "payments-worker")["spec"]["replicas"] == 2
    assert _find(objs, "ConfigMap", "payments-worker-config")


def test_payments_api_pins_its_image_by_digest_and_has_the_expected_objects(
    renders1: dict[str, list[Obj]],
) -> None:
    for env in ("staging", "prod-us", "prod-eu"):
        objs = renders1[f"payments-api-{env}"]
        dep = _find(objs, "Deployment", "payments-api")
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        repo, _, digest = container["image"].partition("@sha256:")
        assert repo == "registry.acme.example/payments/api"
        assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
        assert {"readinessProbe", "livenessProbe", "resources", "envFrom", "env"} <= set(container)
        ingress = _find(objs, "Ingress", "payments-api")
        assert [r["host"] for r in ingress["spec"]["rules"]] == [f"payments.{env}.acme.example"]
        assert ingress["spec"]["tls"][0]["hosts"] == [f"payments.{env}.acme.example"]
        policy = _find(objs, "NetworkPolicy", "payments-api-allow-ingress")
        sources = [
            s["namespaceSelector"]["matchLabels"] for rule in policy["spec"]["ingress"] for s in rule["from"]
        ]
        assert {"kubernetes.io/metadata.name": "ingress-nginx"} in sources
        _find(objs, "Service", "payments-api")
        _find(objs, "ConfigMap", "payments-api-config")
        _find(objs, "Secret", "payments-api-db")


def test_platform_namespaces_give_each_tenant_namespace_quota_and_default_deny(
    renders1: dict[str, list[Obj]],
) -> None:
    for cluster in ("prod-us", "prod-eu"):
        objs = renders1[f"platform-namespaces-{cluster}"]
        tenants = {"payments", "risk", "identity"}
        assert {o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"} == tenants
        for kind in ("ResourceQuota", "NetworkPolicy"):
            assert {o["metadata"]["namespace"] for o in objs if o["kind"] == kind} == tenants, kind
        deny = [o for o in objs if o["kind"] == "NetworkPolicy"]
        assert all(o["spec"]["podSelector"] == {} and "ingress" not in o["spec"] for o in deny)


def test_risk_engine_prod_eu_runs_the_unpullable_release_candidate(
    renders1: dict[str, list[Obj]], workspace: Obj
) -> None:
    def image_and_deadline(app: str) -> tuple[str, int]:
        dep = _find(renders1[app], "Deployment", "risk-engine")
        return dep["spec"]["template"]["spec"]["containers"][0]["image"], dep["spec"][
            "progressDeadlineSeconds"
        ]

    assert image_and_deadline("risk-engine-prod-eu") == (BROKEN_IMAGE, 120)
    assert image_and_deadline("risk-engine-prod-us")[0] == "registry.acme.example/risk/engine:2.3.7"
    unpullable = {c["name"]: c.get("unpullableImages", []) for c in workspace["clusters"]}
    assert unpullable["prod-eu"] == [BROKEN_IMAGE]
    assert unpullable["prod-us"] == []
    for kind in ("Service", "ConfigMap", "PodDisruptionBudget"):
        _find(
            renders1["risk-engine-prod-eu"],
            kind,
            "risk-engine" if kind != "ConfigMap" else "risk-engine-config",
        )


def test_identity_api_is_plain_yaml_with_log_level_info(renders1: dict[str, list[Obj]]) -> None:
    for cluster in ("prod-us", "prod-eu"):
        objs = renders1[f"identity-api-{cluster}"]
        assert sorted(o["kind"] for o in objs) == ["ConfigMap", "Deployment", "Service", "ServiceAccount"]
        env = _find(objs, "Deployment", "identity-api")["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {"name": "LOG_LEVEL", "value": "info"} in env


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def _permits_destination(project: Obj, cluster: str, namespace: str) -> bool:
    return any(
        _glob(d.get("name", ""), cluster) and _glob(d.get("namespace", ""), namespace)
        for d in project["spec"]["destinations"]
    )


def _kind_listed(rules: list[Obj], group: str, kind: str) -> bool:
    return any(_glob(r["group"], group) and _glob(r["kind"], kind) for r in rules)


def test_projects_permit_exactly_what_their_apps_deploy(
    projects: dict[str, Obj], applications: dict[str, Obj], renders1: dict[str, list[Obj]]
) -> None:
    assert set(projects) == {"platform", "payments", "risk", "customer-identity"}
    for name, project in projects.items():
        assert project["apiVersion"] == "trueup.dev/v1alpha1" and project["metadata"]["namespace"] == "trueup"
        spec = project["spec"]
        assert spec["description"]
        assert spec["sourceRepos"] == ["file:///srv/git/acme-fleet.git"]
        assert spec["roles"]
        for role in spec["roles"]:
            for line in role["policies"]:
                tokens = [t.strip() for t in next(csv.reader([line]))]
                assert len(tokens) == 6 and tokens[0] == "p", line
                assert tokens[1] == f"proj:{name}:{role['name']}", line
                assert tokens[2] in {
                    "applications",
                    "applicationsets",
                    "repositories",
                    "exec",
                    "logs",
                    "clusters",
                }
                assert tokens[4].startswith(f"{name}/") and tokens[5] in {"allow", "deny"}, line
    assert [d["name"] for d in projects["platform"]["spec"]["destinations"]] == ["prod-us", "prod-eu"]
    assert projects["payments"]["spec"]["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]
    assert "clusterResourceWhitelist" not in projects["risk"]["spec"]
    assert not _permits_destination(projects["risk"], "prod-us", "payments")
    assert not _permits_destination(projects["payments"], "prod-us", "risk")

    for app_name, app in applications.items():
        spec = projects[app["spec"]["project"]]["spec"]
        cluster = app["spec"]["destination"]["name"]
        for obj in renders1[app_name]:
            group = obj["apiVersion"].rpartition("/")[0]
            ident = f"{app_name}: {obj['kind']}/{obj['metadata']['name']}"
            if obj["kind"] in CLUSTER_SCOPED:
                assert _kind_listed(spec.get("clusterResourceWhitelist", []), group, obj["kind"]), ident
                continue
            assert _permits_destination(
                projects[app["spec"]["project"]], cluster, obj["metadata"]["namespace"]
            )
            if "namespaceResourceWhitelist" in spec:
                assert _kind_listed(spec["namespaceResourceWhitelist"], group, obj["kind"]), ident
            assert not _kind_listed(spec.get("namespaceResourceBlacklist", []), group, obj["kind"]), ident


def test_payments_project_freezes_prod_eu_with_an_always_active_deny_window(projects: dict[str, Obj]) -> None:
    (window,) = projects["payments"]["spec"]["syncWindows"]
    assert window == {
        "kind": "deny",
        "schedule": "0 0 * * *",
        "duration": "24h",
        "clusters": ["prod-eu"],
        "manualSync": False,
        "timeZone": "Europe/Berlin",
        "description": "EU payments change freeze (peak season)",
    }
    # Argo's activeness rule: next(schedule, now - duration) < now, at a few arbitrary instants.
    tz = ZoneInfo(window["timeZone"])
    for now in (datetime(2025, 3, 30, 2, 30, tzinfo=tz), datetime(2025, 11, 29, 23, 59, tzinfo=tz)):
        assert croniter(window["schedule"], now - timedelta(hours=24)).get_next(datetime) < now
    assert all("syncWindows" not in p["spec"] for n, p in projects.items() if n != "payments")


def test_root_application_renders_apps_recursively_and_is_not_in_its_own_inventory() -> None:
    (root,) = _load(REPO / "bootstrap" / "cluster-root.yaml")
    assert root["kind"] == "Application" and root["metadata"] == {
        "name": "cluster-root",
        "namespace": "trueup",
        "labels": {"acme.example/team": "platform"},
    }
    spec = root["spec"]
    assert spec["project"] == "default"
    assert spec["source"] == {
        "repoURL": "file:///srv/git/acme-fleet.git",
        "path": "apps",
        "targetRevision": "main",
        "directory": {"recurse": True},
    }
    assert spec["destination"] == {"name": "in-cluster", "namespace": "trueup"}
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    names = {o["metadata"]["name"] for p in _yaml_files(REPO / "apps") for o in _load(p)}
    assert "cluster-root" not in names
    assert {p.suffix for p in (REPO / "apps").rglob("*") if p.is_file()} == {".yaml"}


def test_repo_url_placeholder_is_used_only_where_a_repo_url_belongs() -> None:
    holders = {
        str(p.relative_to(CONTENT))
        for p in CONTENT.rglob("*")
        if p.is_file() and PLACEHOLDER in p.read_text()
    }
    assert holders == {
        "repo/bootstrap/cluster-root.yaml",
        *(f"repo/apps/projects/{n}.yaml" for n in ("platform", "payments", "risk", "customer-identity")),
        *(f"repo/apps/{APPS[a][0]}/{a}.yaml" for a in APPS),
    }


# --- secrets ---------------------------------------------------------------------------------


def test_the_demo_secret_value_lives_in_exactly_one_secret_manifest() -> None:
    holders = [p for p in CONTENT.rglob("*") if p.is_file() and SECRET_VALUE in p.read_text()]
    assert holders == [REPO / "payments" / "api" / "base" / "secret.yaml"]
    (secret,) = _load(holders[0])
    assert secret["kind"] == "Secret" and secret["stringData"] == {"DATABASE_PASSWORD": SECRET_VALUE}


# --- commit 2 --------------------------------------------------------------------------------


def test_commit_ahead_only_modifies_existing_files() -> None:
    changed = sorted(p.relative_to(AHEAD) for p in AHEAD.rglob("*") if p.is_file())
    assert [str(p) for p in changed] == [
        "payments/api/overlays/prod-eu/configmap-patch.yaml",
        "payments/api/overlays/prod-us/kustomization.yaml",
    ]
    for rel in changed:
        assert (REPO / rel).is_file() and (REPO / rel).read_text() != (AHEAD / rel).read_text()


def test_commit_2_changes_only_the_two_prod_payments_api_renders(
    renders1: dict[str, list[Obj]], renders2: dict[str, list[Obj]]
) -> None:
    changed = {app for app in APPS if renders1[app] != renders2[app]}
    assert changed == CHANGED_IN_COMMIT_2

    def image(objs: list[Obj]) -> str:
        return str(
            _find(objs, "Deployment", "payments-api")["spec"]["template"]["spec"]["containers"][0]["image"]
        )

    # prod-us rolls out exactly what staging already runs; nothing else in prod-us moves.
    assert image(renders2["payments-api-prod-us"]) == image(renders1["payments-api-staging"])
    assert image(renders2["payments-api-prod-us"]) != image(renders1["payments-api-prod-us"])
    # The PreSync migration and PostSync smoke-test hooks run the release image, so they move with it.
    _assert_only_changed(
        renders1["payments-api-prod-us"],
        renders2["payments-api-prod-us"],
        ("Deployment", "payments-api"),
        ("Job", "payments-api-db-migrate"),
        ("Job", "payments-api-smoke-test"),
    )
    # prod-eu: a config change only (the EU freeze window will block syncing it).
    _assert_only_changed(
        renders1["payments-api-prod-eu"],
        renders2["payments-api-prod-eu"],
        ("ConfigMap", "payments-api-config"),
    )
    cm1 = _find(renders1["payments-api-prod-eu"], "ConfigMap", "payments-api-config")["data"]
    cm2 = _find(renders2["payments-api-prod-eu"], "ConfigMap", "payments-api-config")["data"]
    assert {k for k in cm1.keys() | cm2.keys() if cm1.get(k) != cm2.get(k)} == {"FEATURE_FAST_REFUNDS"}
    assert (cm1["FEATURE_FAST_REFUNDS"], cm2["FEATURE_FAST_REFUNDS"]) == ("false", "true")


def _assert_only_changed(before: list[Obj], after: list[Obj], *keys: tuple[str, str]) -> None:
    b = {(o["kind"], o["metadata"]["name"]): o for o in before}
    a = {(o["kind"], o["metadata"]["name"]): o for o in after}
    assert b.keys() == a.keys()
    assert sorted(k for k in b if b[k] != a[k]) == sorted(keys)


# --- workspace -------------------------------------------------------------------------------


def test_workspace_names_the_four_clusters_and_the_root(workspace: Obj, applications: dict[str, Obj]) -> None:
    assert (workspace["apiVersion"], workspace["kind"]) == ("trueup.dev/v1alpha1", "Workspace")
    clusters = {c["name"]: c for c in workspace["clusters"]}
    assert list(clusters) == ["in-cluster", "staging", "prod-us", "prod-eu"]
    assert all(c["type"] == "sim" for c in clusters.values())
    assert clusters["in-cluster"]["server"] == "https://kubernetes.default.svc"
    assert all(c["server"].endswith(".k8s.sim.invalid") for n, c in clusters.items() if n != "in-cluster")
    assert workspace["controlCluster"] == "in-cluster"
    assert workspace["inventory"] == {"roots": ["cluster-root"]}
    assert workspace["repositories"] == {"allowFileURLs": True}
    assert workspace["settings"] == {
        "trackingAnnotation": "trueup.dev/tracking-id",
        "repoErrorGracePeriodSeconds": 180,
        "resourceCustomizations": {},
        "ignoreResourceStatusField": "all",
    }
    assert {a["spec"]["destination"]["name"] for a in applications.values()} <= set(clusters)


_ARGO_MODEL = """
[request_definition]
r = sub, res, act, obj
[policy_definition]
p = sub, res, act, obj, eft
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
[matchers]
m = g(r.sub, p.sub) && globMatch(r.res, p.res) && globMatch(r.act, p.act) && globMatch(r.obj, p.obj)
"""
# The part of Argo CD's builtin-policy.csv these checks touch.
_BUILTIN = """
p, role:readonly, applications, get, */*, allow
p, role:readonly, projects, get, *, allow
p, role:readonly, logs, get, */*, allow
p, role:admin, applications, sync, */*, allow
p, role:admin, applications, update, */*, allow
p, role:admin, applications, action/*, */*, allow
g, role:admin, role:readonly
"""


def _can(workspace: Obj) -> Any:
    model = Model()
    model.load_model_from_text(_ARGO_MODEL)
    enforcer = casbin.Enforcer(model)
    enforcer.add_function("globMatch", lambda value, pattern: fnmatch.fnmatchcase(value, pattern))
    for line in (_BUILTIN + workspace["rbac"]["policy"]).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tokens = [t.strip() for t in next(csv.reader([line]))]
        assert (tokens[0], len(tokens)) in {("p", 6), ("g", 3)}, line
        if tokens[0] == "p":
            enforcer.add_policy(*tokens[1:])
        else:
            enforcer.add_grouping_policy(*tokens[1:])
    users = workspace["users"]
    default = workspace["rbac"]["default"]

    def can(user: str, res: str, act: str, obj: str) -> bool:
        subjects = [default, user, *users.get(user, {}).get("groups", [])]
        return any(enforcer.enforce(s, res, act, obj) for s in subjects)

    return can


def test_workspace_rbac_gives_oncall_admin_devs_their_project_and_everyone_readonly(workspace: Obj) -> None:
    assert set(workspace["users"]) >= {"alice", "bob", "carol"}
    assert "sre-oncall" in workspace["users"]["alice"]["groups"]
    assert "payments-dev" in workspace["users"]["bob"]["groups"]
    assert workspace["rbac"]["default"] == "role:readonly"
    can = _can(workspace)
    assert can("alice", "applications", "sync", "payments/payments-api-prod-eu")
    assert can("alice", "applications", "action/apps/Deployment/restart", "risk/risk-engine-prod-eu")
    assert can("bob", "applications", "sync", "payments/payments-api-prod-us")
    assert not can("bob", "applications", "sync", "risk/risk-engine-prod-eu")
    assert not can("bob", "applications", "update", "payments/payments-api-prod-us")
    assert can("carol", "applications", "get", "risk/risk-engine-prod-eu")
    assert not can("carol", "applications", "sync", "payments/payments-api-staging")
    assert can("mallory", "applications", "get", "payments/payments-api-prod-us")
    assert not can("mallory", "applications", "sync", "payments/payments-api-prod-us")
    groups = {g for u in workspace["users"].values() for g in u["groups"]}
    bound = {
        line.split(",")[1].strip()
        for line in workspace["rbac"]["policy"].splitlines()
        if line.startswith("g,")
    }
    assert bound <= groups, f"policy binds groups no demo user has: {bound - groups}"
