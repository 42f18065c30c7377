"""Property: no generated Application can put a resource outside its AppProject's destinations or
kinds onto a cluster — hooks (PreSync/Sync/PostSync/SyncFail) included — through the real compare
and sync executor on a sim cluster.

Hypothesis generates the project (destination namespace patterns with `!` negation, namespaced
white/blacklists with nil-vs-empty, a cluster-scoped whitelist) and the app (destination namespace,
objects of several kinds, each maybe in another namespace, maybe a hook). After the sync, every
object the cluster ever *created* during it (its watch stream, so hooks deleted afterwards are
seen too) is checked against an independent oracle written here from argocd-features.md §6.1/6.2.
"""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.cluster.api import Cluster, Obj
from console.engine.appstore import AppStore
from console.engine.sync import executor as ex
from console.engine.sync import operation as op
from tests.helpers import application, commit_files, make_workspace, project

NAMESPACES = ("team-a", "team-b", "kube-system")
NS_PATTERNS = ("team-a", "team-*", "!team-b", "*", "!kube-*", "kube-system")
# (apiVersion, kind, group, namespaced)
KINDS = (
    ("v1", "ConfigMap", "", True),
    ("v1", "Secret", "", True),
    ("v1", "ServiceAccount", "", True),
    ("rbac.authorization.k8s.io/v1", "Role", "rbac.authorization.k8s.io", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "rbac.authorization.k8s.io", False),
    ("v1", "Namespace", "", False),
)
GROUP_KINDS = [{"group": g, "kind": k} for _a, k, g, ns in KINDS if ns]
HOOKS = (None, "PreSync", "Sync", "PostSync", "SyncFail")
_counter = itertools.count()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("props")
    ws, url, work = make_workspace(root, {"README.md": "property fleet\n"})
    dev = ws.open_cluster("dev")
    for ns in NAMESPACES:
        try:
            dev.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, field_manager="test"
            )
        except Exception:  # noqa: BLE001 - kube-system is seeded
            pass
    return {"ws": ws, "url": url, "work": work, "root": root}


# ----------------------------------------------------------------------------- the oracle


def _match(pattern: str, value: str) -> bool:
    """`!p` matches iff p does not; `*` alone matches anything (PT:globMatch, no separators)."""
    if pattern.startswith("!"):
        return not fnmatch.fnmatchcase(value, pattern[1:])
    return fnmatch.fnmatchcase(value, pattern)


def dest_allowed(patterns: list[str], namespace: str) -> bool:
    """Any entry matches and no `!` entry's pattern matches (entries all name cluster `dev`)."""
    any_match = False
    for p in patterns:
        if _match(p, namespace):
            any_match = True
        elif p.startswith("!"):
            return False
    return any_match


def kind_allowed(spec: dict[str, Any], group: str, kind: str, namespaced: bool) -> bool:
    gk = {"group": group, "kind": kind}
    if namespaced:
        white = spec.get("namespaceResourceWhitelist")
        whitelisted = white is None or gk in white
        return whitelisted and gk not in (spec.get("namespaceResourceBlacklist") or [])
    return any(
        i.get("kind") == kind and i.get("group") == group for i in spec.get("clusterResourceWhitelist") or []
    )


# ----------------------------------------------------------------------------- generators

project_specs = st.fixed_dictionaries(
    {
        "patterns": st.lists(st.sampled_from(NS_PATTERNS), min_size=1, max_size=3, unique=True),
        "white": st.one_of(
            st.none(), st.lists(st.sampled_from(GROUP_KINDS), max_size=3, unique_by=lambda g: g["kind"])
        ),
        "black": st.lists(st.sampled_from(GROUP_KINDS), max_size=2, unique_by=lambda g: g["kind"]),
        "cluster_white": st.sampled_from([None, [], [{"group": "", "kind": "Namespace"}]]),
    }
)
objects = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(KINDS),
            "namespace": st.sampled_from((None, *NAMESPACES)),
            "hook": st.sampled_from(HOOKS),
        }
    ),
    min_size=1,
    max_size=5,
)


def _manifest(i: int, item: dict[str, Any], prefix: str) -> Obj:
    api, kind, _group, namespaced = item["kind"]
    md: dict[str, Any] = {"name": f"{prefix}-{kind.lower()}-{i}"}
    if namespaced and item["namespace"]:
        md["namespace"] = item["namespace"]
    if item["hook"]:
        md["annotations"] = {"argocd.argoproj.io/hook": item["hook"]}
    obj: Obj = {"apiVersion": api, "kind": kind, "metadata": md}
    if kind == "ConfigMap":
        obj["data"] = {"k": "v"}
    if kind in ("Role", "ClusterRole"):
        obj["rules"] = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    return obj


def _created_since(cluster: Cluster, rv: str) -> list[Obj]:
    """Every object ADDED after `rv`, through the watch API (deleted hooks included)."""
    out = []
    for api, kind, _g, _ns in KINDS:
        for ev in cluster.watch(api, kind, None, resource_version=rv, timeout_seconds=0.05):
            if ev.type == "ADDED":
                out.append(ev.object)
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=project_specs, dest_ns=st.sampled_from(NAMESPACES), items=objects)
def test_no_application_deploys_outside_its_project(
    env: dict[str, Any], spec: dict[str, Any], dest_ns: str, items: list[dict[str, Any]]
) -> None:
    ws, url, work = env["ws"], env["url"], env["work"]
    n = next(_counter)
    name, proj = f"prop-{n}", f"proj-{n}"
    manifests = [_manifest(i, item, name) for i, item in enumerate(items)]
    commit_files(
        work, env["root"] / "work", {f"apps/{name}/all.yaml": yaml.safe_dump_all(manifests)}, f"app {name}"
    )
    pspec: dict[str, Any] = {
        "sourceRepos": ["*"],
        "destinations": [{"name": "dev", "namespace": p} for p in spec["patterns"]],
        "namespaceResourceBlacklist": spec["black"],
    }
    if spec["white"] is not None:
        pspec["namespaceResourceWhitelist"] = spec["white"]
    if spec["cluster_white"] is not None:
        pspec["clusterResourceWhitelist"] = spec["cluster_white"]
    control = ws.control()
    control.create(project(proj, **pspec), field_manager="test")
    control.create(
        application(name, url, f"apps/{name}", namespace=dest_ns, project=proj), field_manager="test"
    )
    dev = ws.open_cluster("dev")
    rv = dev.list("v1", "ConfigMap").resource_version
    store = AppStore(control)
    op.request_sync(store, name, initiated_by={"username": "prop"})
    app = ex.run_operation(ws, name, holder="prop", timeout=60, poll=0.0)
    phase = (op.operation_state(app) or {}).get("phase")
    assert phase in ("Succeeded", "Failed", "Error"), phase

    created = [o for o in _created_since(dev, rv) if str(o["metadata"]["name"]).startswith(f"{name}-")]
    for obj in created:
        api, kind = obj["apiVersion"], obj["kind"]
        group = api.split("/")[0] if "/" in api else ""
        namespaced = kind not in ("ClusterRole", "Namespace")
        ns = obj["metadata"].get("namespace") or ""
        assert kind_allowed(pspec, group, kind, namespaced), (kind, pspec)
        if namespaced:
            assert dest_allowed(spec["patterns"], ns), (ns, spec["patterns"], obj["metadata"])
    # and the app-level destination itself must be permitted for anything to have been applied
    if created:
        assert dest_allowed(spec["patterns"], dest_ns)

    # liveness: when the oracle permits everything, everything (but SyncFail hooks) was deployed
    def permitted(item: dict[str, Any]) -> bool:
        _api, kind, group, namespaced = item["kind"]
        ns = (item["namespace"] or dest_ns) if namespaced else ""
        return kind_allowed(pspec, group, kind, namespaced) and (
            not namespaced or dest_allowed(spec["patterns"], ns)
        )

    if dest_allowed(spec["patterns"], dest_ns) and all(permitted(i) for i in items):
        assert phase == "Succeeded", (op.operation_state(app) or {}).get("message")
        wanted = {
            m["metadata"]["name"] for m, i in zip(manifests, items, strict=True) if i["hook"] != "SyncFail"
        }
        assert wanted <= {o["metadata"]["name"] for o in created}
        STATS["deployed"] += 1
    else:
        # one forbidden object (or a forbidden destination) and nothing of the app is applied,
        # hooks included (Argo's sync permission validator fails the whole operation)
        assert created == [], [o["metadata"]["name"] for o in created]
        assert phase in ("Failed", "Error")
        STATS["refused"] += 1


STATS = {"deployed": 0, "refused": 0}


def test_the_property_saw_both_outcomes() -> None:
    """The generator must exercise both sides (runs after the property in file order)."""
    assert STATS["deployed"] >= 3 and STATS["refused"] >= 3, STATS
