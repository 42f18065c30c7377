"""The fault drills: each injects one failure of the seed's failure model (§23) into the demo fleet
through a real actor's interface (see `drill`), and names the runbook that should fit it.

Every scenario works on its default demo app and, where the app has the shape it needs, on any
other app given with `--app` (it refuses an app it cannot drill, in one sentence).
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from console.cluster.api import Obj
from console.engine import annotations as anno
from console.engine import yamlsafe
from console.engine.compare import Comparison
from console.engine.refresh import compare_one
from console.engine.scenarios import edits
from console.engine.scenarios.drill import Drill, ScenarioError
from console.engine.sources.workclone import Identity

PLATFORM = Identity("Platform Team", "platform@acme.example")
SIDECAR_MANAGER = "istio-sidecar-injector"
SIDECAR_IMAGE = "docker.io/istio/proxyv2:1.24.2"


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    default_app: str
    runbook: str  # the runbook `runbook suggest` should pick afterwards
    actor: str  # who injects the fault (for `scenario list`)
    inject: Callable[[Drill], None]


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, summary: str, default_app: str, runbook: str, actor: str
) -> Callable[[Callable[[Drill], None]], Callable[[Drill], None]]:
    def register(fn: Callable[[Drill], None]) -> Callable[[Drill], None]:
        SCENARIOS[name] = Scenario(name, summary, default_app, runbook, actor, fn)
        return fn

    return register


# --- helpers --------------------------------------------------------------------------------------

_TEAM = {"risk": "dave", "payments": "bob", "customer-identity": "erin"}


def teammate(d: Drill) -> Identity:
    project = str(d.spec.get("project") or "")
    user = _TEAM.get(project)
    return d.person(user) if user else PLATFORM


def comparison(d: Drill) -> Comparison:
    cmp = compare_one(d.ws, d.name)
    errors = [c["message"] for c in cmp.conditions if c["type"].endswith("Error")]
    if errors:
        raise ScenarioError(
            f"application {d.name} does not compare cleanly ({errors[0]}); reset the demo first"
        )
    return cmp


def deployment(d: Drill, cmp: Comparison | None = None) -> tuple[Obj, Obj]:
    """(desired, live) of the app's first Deployment."""
    for r in (cmp or comparison(d)).resources:
        if (
            r.key.group == "apps"
            and r.key.kind == "Deployment"
            and r.target is not None
            and r.live is not None
        ):
            return r.target, r.live
    raise ScenarioError(f"application {d.name} has no live Deployment; pick another app with --app")


def kustomization(d: Drill) -> str | None:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        rel = posixpath.join(d.path, name)
        if d.exists(rel):
            return rel
    return None


def image_parts(image: str) -> tuple[str, str]:
    """(repository, tag or digest) of an image reference."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        return repo, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = image.rsplit(":", 1)
        return repo, tag
    return image, "latest"


def next_tag(tag: str) -> str:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", tag)
    if m:
        return f"{m.group(1)}.{m.group(2)}.{int(m.group(3)) + 1}"
    return "1.43.0"


def set_image_in_git(d: Drill, image: str, tag: str) -> tuple[dict[str, str], str]:
    """The files that point the app's Deployment image `image` at `tag`: the overlay's `images:`
    entry for a kustomize app, else the manifest's `image:` line."""
    repo, _ = image_parts(image)
    kz = kustomization(d)
    if kz is not None:
        text, before = edits.set_kustomize_image(d.read(kz), repo, tag, kz)
        return {kz: text}, before
    for rel in _manifest_files(d):
        text = d.read(rel)
        if re.search(rf"image:\s*[\"']?{re.escape(image)}", text):
            return {rel: edits.replace_image(text, image, f"{repo}:{tag}", rel)}, image_parts(image)[1]
    raise ScenarioError(f"no manifest under {d.path}/ names the image {image}; pick another app with --app")


def _manifest_files(d: Drill) -> list[str]:
    root = d.clone().path / d.path
    if not root.is_dir():
        raise ScenarioError(f"{d.clone().shown}/{d.path} is not a directory of the working clone")
    return sorted(str(p.relative_to(d.clone().path)) for p in root.rglob("*.y*ml") if p.is_file())


def add_kustomize_resource(d: Drill, filename: str, body: str) -> dict[str, str]:
    """A new manifest file in the app's path (listed in its kustomization when it has one)."""
    rel = posixpath.join(d.path, filename)
    files = {rel: body}
    kz = kustomization(d)
    if kz is not None:
        files[kz] = edits.add_list_item(d.read(kz), "resources", [f"  - {filename}"], kz)
    return files


def op_done(d: Drill, app: str | None = None) -> Callable[[], bool]:
    return lambda: str(d.operation(app).get("phase") or "") not in ("", "Running", "Terminating")


def synced_to(d: Drill, sha: str) -> Callable[[], bool]:
    def check() -> bool:
        op = d.operation()
        return (op.get("syncResult") or {}).get("revision") == sha and op.get("phase") not in (
            "Running",
            "Terminating",
        )

    return check


def application_file(d: Drill, kind: str, name: str) -> str:
    """The file in the working clone that defines the Application or AppProject `name`."""
    clone = d.clone()
    for path in sorted(clone.path.rglob("*.y*ml")):
        if ".git" in path.parts:
            continue
        try:
            docs = yamlsafe.load_all(path.read_bytes(), path.name)
        except Exception:  # noqa: BLE001 - not a manifest (a values file, a template): skip it
            continue
        for doc in docs:
            if (
                isinstance(doc, dict)
                and doc.get("kind") == kind
                and (doc.get("metadata") or {}).get("name") == name
            ):
                return str(path.relative_to(clone.path))
    raise ScenarioError(f"no file in {clone.shown}/ defines {kind} {name}; this drill edits it in Git")


def deadline(live: Obj) -> int:
    return int((live.get("spec") or {}).get("progressDeadlineSeconds") or 600)


# --- the scenarios --------------------------------------------------------------------------------


@scenario(
    "bad-commit-autosynced",
    "a broken image tag is committed and auto-sync rolls it out to production",
    "risk-engine-prod-us",
    "bad-commit-autosynced",
    "teammate commit + registry + controller",
)
def bad_commit(d: Drill) -> None:
    d.require_auto_sync("bad-commit-autosynced")
    _desired, live = deployment(d)
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    repo, tag = image_parts(image)
    new = next_tag(tag if "@" not in image else "1.42.0")
    d.registry_drop(
        f"{repo}:{new}", "image registry", f"{new} was tagged in Git but CI never pushed the image"
    )
    files, _before = set_image_in_git(d, image, new)
    sha = d.commit(files, f"{_short(d)}: roll out {new} to {d.cluster_name}", teammate(d))
    d.reconcile("auto-sync delivers the commit", until=synced_to(d, sha))
    d.advance(deadline(live) + 30, "the rollout's progress deadline passes")
    d.reconcile("refresh", passes=1)


@scenario(
    "degraded-but-synced",
    "the running image disappears from the registry, then a rollout restart cannot pull it",
    "identity-api-prod-eu",
    "degraded-but-synced",
    "registry + on-call `kubectl rollout restart`",
)
def degraded_but_synced(d: Drill) -> None:
    _desired, live = deployment(d)
    md = live["metadata"]
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    d.registry_drop(image, "image registry", "the retention policy garbage-collected the running digest")
    restarted = d.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def restart(obj: Obj) -> None:
        tmd = obj["spec"]["template"].setdefault("metadata", {})
        tmd.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = restarted

    d.live_edit(
        "apps/v1",
        "Deployment",
        md["namespace"],
        md["name"],
        restart,
        "kubectl-rollout",
        d.person("alice").name,
        "kubectl rollout restart (to pick up a rotated secret)",
    )
    d.advance(deadline(live) + 30, "the rollout's progress deadline passes")
    d.reconcile("refresh", passes=1)


@scenario(
    "immutable-field",
    "a commit adds a label to the Deployment selector (includeSelectors); the sync fails as Invalid",
    "payments-api-staging",
    "immutable-field",
    "teammate commit + controller",
)
def immutable_field(d: Drill) -> None:
    d.require_auto_sync("immutable-field")
    kz = kustomization(d)
    if kz is None:
        _desired, live = deployment(d)
        raise ScenarioError(
            f"scenario immutable-field edits a kustomization; {d.name} has none under {d.path}/"
        )
    item = [
        "  - pairs:",
        f"      app.kubernetes.io/instance: {d.name}",
        "    includeSelectors: true",
    ]
    files = {kz: edits.add_list_item(d.read(kz), "labels", item, kz)}
    d.commit(
        files, f"{_short(d)}: label {d.cluster_name} resources with app.kubernetes.io/instance", teammate(d)
    )
    d.reconcile("auto-sync delivers the commit", until=op_done(d))


@scenario(
    "hpa-noise",
    "the ignoreDifferences rule for /spec/replicas is removed: self-heal and the HPA fight over replicas",
    "payments-worker-prod-us",
    "out-of-sync",
    "teammate commit (app-of-apps) + HPA + controller",
)
def hpa_noise(d: Drill) -> None:
    cmp = comparison(d)
    if not any(r.key.kind == "HorizontalPodAutoscaler" for r in cmp.resources):
        raise ScenarioError(
            f"scenario hpa-noise needs an app with a HorizontalPodAutoscaler; {d.name} has none"
        )
    if d.spec.get("ignoreDifferences"):
        rel = application_file(d, "Application", d.name)
        text = edits.remove_mapping_key(d.read(rel), "ignoreDifferences", 2, rel)
        d.commit(
            {rel: text},
            f"{_short(d)}: drop the ignoreDifferences workaround (Git owns replicas)",
            teammate(d),
        )
    d.reconcile(
        "cluster-root applies the Application; self-heal and the HPA take turns",
        passes=6,
        settle=20,
        max_settle=20,
    )
    d.advance(20, "the HPA resyncs and scales the Deployment back")
    d.refresh("the app after the HPA's turn")


@scenario(
    "sidecar-injection",
    "a mutating admission (istio-sidecar-injector) adds a container the Git manifest does not have",
    "identity-api-prod-eu",
    "out-of-sync",
    f"admission mutation (field manager {SIDECAR_MANAGER})",
)
def sidecar_injection(d: Drill) -> None:
    _desired, live = deployment(d)
    md = live["metadata"]

    def inject(obj: Obj) -> None:
        tpl = obj["spec"]["template"]
        containers = tpl["spec"]["containers"]
        if any(c.get("name") == "istio-proxy" for c in containers):
            return
        containers.append(
            {
                "name": "istio-proxy",
                "image": SIDECAR_IMAGE,
                "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
                "ports": [{"name": "http-envoy-prom", "containerPort": 15090, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "runAsNonRoot": True,
                    "runAsUser": 1337,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        )
        tmd = tpl.setdefault("metadata", {})
        tmd.setdefault("annotations", {})["sidecar.istio.io/status"] = '{"containers":["istio-proxy"]}'

    d.live_edit(
        "apps/v1",
        "Deployment",
        md["namespace"],
        md["name"],
        inject,
        SIDECAR_MANAGER,
        "istio sidecar injector",
        f"container istio-proxy ({SIDECAR_IMAGE}) added to the pod template",
    )
    d.advance(60, "the new pods roll out")
    d.reconcile("refresh", passes=1)


@scenario(
    "manual-drift",
    "an on-call engineer raises a memory limit with `kubectl edit` (selfHeal is off)",
    "identity-api-prod-eu",
    "out-of-sync",
    "on-call `kubectl edit`",
)
def manual_drift(d: Drill) -> None:
    _desired, live = deployment(d)
    md = live["metadata"]
    container = live["spec"]["template"]["spec"]["containers"][0]
    before = str(((container.get("resources") or {}).get("limits") or {}).get("memory") or "unset")
    after = "1Gi" if before != "1Gi" else "2Gi"

    def edit(obj: Obj) -> None:
        c = obj["spec"]["template"]["spec"]["containers"][0]
        c.setdefault("resources", {}).setdefault("limits", {})["memory"] = after

    d.live_edit(
        "apps/v1",
        "Deployment",
        md["namespace"],
        md["name"],
        edit,
        "kubectl-edit",
        d.person("alice").name,
        f"spec.template.spec.containers[0].resources.limits.memory {before} -> {after} (OOMKilled at peak)",
    )
    d.advance(60, "the edited pods roll out")
    d.reconcile("refresh", passes=1)


@scenario(
    "shared-resource",
    "a copy-pasted Application points at the same path: two apps claim the same objects",
    "payments-worker-prod-us",
    "out-of-sync",
    "teammate commit (app-of-apps) + controller",
)
def shared_resource(d: Drill) -> None:
    rel = application_file(d, "Application", d.name)
    text = d.read(rel)
    twin = _twin_name(d.name)
    new_text = re.sub(rf"(^\s*name:\s*){re.escape(d.name)}\s*$", rf"\g<1>{twin}", text, count=1, flags=re.M)
    if new_text == text:
        raise ScenarioError(f"{rel} does not hold `name: {d.name}` on a line of its own")
    new_rel = posixpath.join(posixpath.dirname(rel), f"{twin}.yaml")
    edits.check(new_text, new_rel)
    d.commit({new_rel: new_text}, f"{_short(d)}: add {twin} (copied from {d.name})", teammate(d))
    d.reconcile(
        "cluster-root creates the copy; both apps sync the same objects", passes=5, settle=10, max_settle=10
    )


@scenario(
    "stuck-hook",
    "a PreSync migration Job uses an image the registry does not have: the sync waits forever",
    "payments-api-staging",
    "operation-stuck",
    "teammate commit + registry + controller",
)
def stuck_hook(d: Drill) -> None:
    d.require_auto_sync("stuck-hook")
    cmp = comparison(d)
    hook = next(
        (
            r
            for r in cmp.resources
            if r.target is not None and r.key.kind == "Job" and "PreSync" in anno.hook_types(r.target)
        ),
        None,
    )
    kz = kustomization(d)
    if hook is None or kz is None or hook.target is None:
        raise ScenarioError(
            f"scenario stuck-hook needs a kustomize app with a PreSync Job hook; {d.name} has none"
        )
    image = hook.target["spec"]["template"]["spec"]["containers"][0]["image"]
    repo, _ = image_parts(image)
    new_image = f"{repo}-migrations:1.43.0"
    d.registry_drop(
        new_image, "image registry", "the migrations image was pushed to another repository by mistake"
    )
    item = [
        "  - target:",
        "      kind: Job",
        f"      name: {hook.key.name}",
        "    patch: |-",
        "      - op: replace",
        "        path: /spec/template/spec/containers/0/image",
        f"        value: {new_image}",
    ]
    if "activeDeadlineSeconds" in (hook.target.get("spec") or {}):
        item += ["      - op: remove", "        path: /spec/activeDeadlineSeconds"]
    _desired, live = deployment(d, cmp)
    app_image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    files, _before = set_image_in_git(d, app_image, "1.43.0")
    files[kz] = edits.add_list_item(files[kz], "patches", item, kz)
    d.commit(
        files,
        f"{_short(d)}: 1.43.0; migrations from the api-migrations image, without a deadline",
        teammate(d),
    )
    d.reconcile("auto-sync starts; the PreSync hook cannot start its pod", passes=3, max_settle=10)
    d.advance(240, "the hook has been waiting")
    d.reconcile("the operation is still running", passes=1)


@scenario(
    "sync-window-freeze",
    "a change freeze (deny window) starts, then an urgent config change lands in Git",
    "risk-engine-prod-us",
    "emergency-change-during-freeze",
    "platform commit (AppProject) + teammate commit + controller",
)
def sync_window_freeze(d: Drill) -> None:
    d.require_auto_sync("sync-window-freeze")
    project = str(d.spec.get("project") or "default")
    rel = application_file(d, "AppProject", project)
    now = d.now()
    start = now - timedelta(seconds=now.second)
    window = [
        "  syncWindows:",
        "    - kind: deny",
        f'      schedule: "{start.minute} {start.hour} * * *"',
        "      duration: 3h",
        "      clusters:",
        f"        - {d.cluster_name}",
        "      manualSync: false",
        "      timeZone: UTC",
        f"      description: {project} change freeze (quarter close)",
    ]
    text = edits.append_to_mapping(d.read(rel), "spec", window, rel)
    d.commit({rel: text}, f"{project}: change freeze on {d.cluster_name} for the quarter close", PLATFORM)
    d.reconcile("cluster-root applies the AppProject", passes=2)
    files, what = _config_change(d)
    d.commit(files, f"{_short(d)}: {what} on {d.cluster_name} (fraud spike)", teammate(d))
    d.reconcile("auto-sync is blocked by the window", passes=2)


@scenario(
    "repo-unreachable",
    "the Git server loses the repository: the grace period, then ComparisonError",
    "risk-engine-prod-us",
    "comparison-error",
    "Git server",
)
def repo_unreachable(d: Drill) -> None:
    url = str(d.source.get("repoURL") or "")
    d.move_repository(url, "Git server admin")
    d.reconcile("first refresh after the outage (inside the grace period)", passes=1)
    d.advance(d.ws.settings.repo_error_grace_period + 30, "the repository error grace period ends")
    d.reconcile("refresh", passes=1)


@scenario(
    "admission-rejected",
    "a ValidatingAdmissionPolicy requires image digests; a commit uses a tag and the sync is refused",
    "payments-api-staging",
    "sync-failed",
    "platform `kubectl apply` (policy) + teammate commit + controller",
)
def admission_rejected(d: Drill) -> None:
    d.require_auto_sync("admission-rejected")
    _desired, live = deployment(d)
    ns = d.namespace or live["metadata"]["namespace"]
    policy = f"{ns}-images-pinned-by-digest"
    d.create(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": policy},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["apps"],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["deployments"],
                        }
                    ]
                },
                "validations": [
                    {
                        "expression": "object.spec.template.spec.containers.all(c, c.image.contains('@sha256:'))",
                        "message": "every container image must be pinned by digest (image@sha256:...)",
                        "reason": "Forbidden",
                    }
                ],
            },
        },
        "kubectl-client-side-apply",
        PLATFORM.name,
        "images must be pinned by digest",
    )
    d.create(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": policy},
            "spec": {
                "policyName": policy,
                "validationActions": ["Deny"],
                "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}},
            },
        },
        "kubectl-client-side-apply",
        PLATFORM.name,
        f"binds the policy to namespace {ns}",
    )
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    files, _before = set_image_in_git(d, image, "1.43.0-rc1")
    d.commit(files, f"{_short(d)}: try 1.43.0-rc1 on {d.cluster_name}", teammate(d))
    d.reconcile("auto-sync delivers the commit", until=op_done(d))


@scenario(
    "quota-exceeded",
    "the platform caps ConfigMaps per namespace; a commit adds one and the sync is refused",
    "identity-api-prod-eu",
    "sync-failed",
    "platform `kubectl create quota` + teammate commit + controller",
)
def quota_exceeded(d: Drill) -> None:
    d.require_auto_sync("quota-exceeded")
    ns = d.namespace
    if not ns:
        raise ScenarioError(
            f"scenario quota-exceeded needs an app with a destination namespace; {d.name} has none"
        )
    used = len(d.cluster().list("v1", "ConfigMap", ns).items)
    d.create(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "object-counts", "namespace": ns},
            "spec": {"hard": {"configmaps": str(used)}},
        },
        "kubectl-create",
        PLATFORM.name,
        f"configmaps capped at {used} (the current count)",
    )
    d.advance(5, "the quota controller computes usage")
    name = f"{_short(d)}-feature-flags"
    body = yamlsafe.dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": _short(d)}},
            "data": {"PASSKEYS_ENABLED": "false", "PASSKEYS_ROLLOUT_PERCENT": "5"},
        }
    )
    files = add_kustomize_resource(d, "feature-flags.yaml", body)
    d.commit(files, f"{_short(d)}: feature flags ConfigMap for the passkeys rollout", teammate(d))
    d.reconcile("auto-sync delivers the commit", until=op_done(d))


@scenario(
    "crd-missing",
    "a commit adds a ServiceMonitor, but the cluster has no monitoring.coreos.com CRDs",
    "risk-engine-prod-us",
    "sync-failed",
    "teammate commit + controller",
)
def crd_missing(d: Drill) -> None:
    d.require_auto_sync("crd-missing")
    short = _short(d)
    body = yamlsafe.dump(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": short, "labels": {"app.kubernetes.io/name": short}},
            "spec": {
                "selector": {"matchLabels": {"app.kubernetes.io/name": short}},
                "endpoints": [{"port": "metrics", "interval": "30s"}],
            },
        }
    )
    files = add_kustomize_resource(d, "servicemonitor.yaml", body)
    d.commit(files, f"{short}: scrape metrics with a ServiceMonitor", teammate(d))
    d.reconcile("auto-sync delivers the commit", until=op_done(d))


def _short(d: Drill) -> str:
    """The workload's name without its environment suffix (risk-engine-prod-us -> risk-engine)."""
    cluster = d.cluster_name
    name = d.name
    for suffix in (f"-{cluster}", "-staging", "-prod"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _twin_name(name: str) -> str:
    parts = name.split("-")
    if len(parts) >= 3:
        return "-".join([*parts[:-2], "batch", *parts[-2:]])
    return f"{name}-batch"


def _config_change(d: Drill) -> tuple[dict[str, str], str]:
    """A small, urgent ConfigMap change through a patch in the app's overlay."""
    kz = kustomization(d)
    cmp = comparison(d)
    cm = next((r.target for r in cmp.resources if r.key.kind == "ConfigMap" and r.target is not None), None)
    if kz is None or cm is None:
        raise ScenarioError(
            f"this drill changes a ConfigMap through a kustomize patch; {d.name} has no such setup"
        )
    data = dict(cm.get("data") or {})
    if "SCORE_THRESHOLD_REVIEW" in data:
        key, value, what = "SCORE_THRESHOLD_REVIEW", "0.80", "raise SCORE_THRESHOLD_REVIEW to 0.80"
    else:
        key = next((k for k, v in data.items() if str(v).lower() == "info"), "")
        if not key:
            raise ScenarioError(
                f"ConfigMap {cm['metadata']['name']} of {d.name} has no setting this drill changes"
            )
        value, what = "debug", f"set {key} to debug"
    patch_name = f"{cm['metadata']['name']}-freeze-patch.yaml"
    patch = copy.deepcopy(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": cm["metadata"]["name"]}}
    )
    patch["data"] = {key: value}
    files = {
        posixpath.join(d.path, patch_name): yamlsafe.dump(patch),
        kz: edits.add_list_item(d.read(kz), "patches", [f"  - path: {patch_name}"], kz),
    }
    return files, what
