"""Checks about health (§24.2): which resource is degraded and why, down to the pods; whether the
trouble began with a revision change; images, referenced config, admission mutations, rollout
conditions, whether the service still serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.cluster.api import Obj
from console.engine.compare import ResourceState
from console.engine.runbooks.checks.base import Result, check, is_human, one_line, resource
from console.engine.runbooks.checks.drift import drifts
from console.engine.runbooks.facts import Facts, ago, clock, parse_time

_BAD_WAITING = (
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CrashLoopBackOff",
)
CLASSES = ("image", "dependency", "secret", "config", "capacity", "policy", "health-rule", "unknown")


@dataclass(frozen=True)
class PodProblem:
    pod: str
    container: str
    reason: str
    message: str
    image: str

    def line(self) -> str:
        return f"pod {self.pod} container {self.container}: {self.reason}" + (
            f": {one_line(self.message, 220)}" if self.message else ""
        )


def problems_of(pod: Obj) -> list[PodProblem]:
    out = []
    status = pod.get("status") or {}
    name = str((pod.get("metadata") or {}).get("name") or "")
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        reason = str(waiting.get("reason") or "")
        if reason in _BAD_WAITING:
            out.append(
                PodProblem(
                    name,
                    str(cs.get("name") or ""),
                    reason,
                    str(waiting.get("message") or ""),
                    str(cs.get("image") or ""),
                )
            )
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            out.append(
                PodProblem(
                    name, "", str(cond.get("reason") or "Unschedulable"), str(cond.get("message") or ""), ""
                )
            )
    return out


def unhealthy(facts: Facts) -> list[ResourceState]:
    return [
        r
        for r in facts.resources
        if r.health is not None and r.health.status in ("Degraded", "Missing", "Progressing") and not r.hook
    ]


def pod_problems(facts: Facts, res: ResourceState) -> list[PodProblem]:
    if res.live is None:
        return []
    pods = [res.live] if res.key.kind == "Pod" else facts.pods_of(res.live)
    return [p for pod in pods for p in problems_of(pod)]


def _running_images(facts: Facts, res: ResourceState) -> dict[str, str]:
    """image -> imageID for containers that run in ready pods of the workload."""
    out: dict[str, str] = {}
    if res.live is None:
        return out
    for pod in facts.pods_of(res.live):
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if cs.get("ready") and cs.get("imageID"):
                out[str(cs.get("image") or "")] = str(cs.get("imageID"))
    return out


@check("health-degraded", "the app is Degraded (or Missing): which resources, with the pods' reasons")
def health_degraded(facts: Facts, _p: Any) -> Result:
    health = facts.comparison.health
    if health.status not in ("Degraded", "Missing"):
        return Result("no", f"no: the app is {health.status}")
    evidence = []
    for r in unhealthy(facts):
        assert r.health is not None
        evidence.append(
            f"{resource(r.key)}: {r.health.status}"
            + (f" ({one_line(r.health.message, 200)})" if r.health.message else "")
        )
        for p in pod_problems(facts, r)[:3]:
            evidence.append(f"  {p.line()}")
    worst = next((r for r in unhealthy(facts) if r.health and r.health.status == "Degraded"), None)
    summary = f"{health.status}: " + (
        f"{resource(worst.key)}"
        + (f" ({one_line(worst.health.message, 120)})" if worst.health and worst.health.message else "")
        if worst
        else one_line(health.message, 160)
    )
    return Result("yes", summary, evidence)


@check(
    "failure-class",
    "what kind of problem the unhealthy resources have: image, dependency, secret/config, capacity, policy",
    CLASSES,
)
def failure_class(facts: Facts, _p: Any) -> Result:
    bad = unhealthy(facts)
    if not bad:
        return Result("unknown", "no unhealthy resource to classify")
    for r in bad:
        problems = pod_problems(facts, r)
        pulls = [p for p in problems if p.reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")]
        if pulls:
            p = pulls[0]
            running = _running_images(facts, r)
            if p.image in running:
                return Result(
                    "dependency",
                    f"dependency: new pods cannot pull {p.image}, which older pods of {resource(r.key)} still run",
                    [
                        p.line(),
                        f"{p.image} runs in ready pods (imageID {running[p.image]}) but can no longer be pulled: "
                        "the registry lost it (retention, deletion) or pull credentials changed",
                    ],
                    {"image": p.image},
                )
            return Result(
                "image",
                f"image: {resource(r.key)} cannot pull {p.image}",
                [
                    p.line(),
                    f"no pod of {resource(r.key)} ever ran {p.image}: a new image that does not exist (bad tag?)",
                ],
                {"image": p.image},
            )
        configs = [p for p in problems if p.reason == "CreateContainerConfigError"]
        if configs:
            return Result("secret", f"secret/config: {configs[0].line()}", [p.line() for p in configs[:3]])
        crashes = [p for p in problems if p.reason == "CrashLoopBackOff"]
        if crashes:
            return Result(
                "config", f"app config or release: {crashes[0].line()}", [p.line() for p in crashes[:3]]
            )
        unsched = [p for p in problems if p.reason in ("Unschedulable",)]
        if unsched:
            return Result(
                "capacity", f"cluster capacity: {unsched[0].line()}", [p.line() for p in unsched[:3]]
            )
        if r.health is not None and r.health.message and "quota" in r.health.message.lower():
            return Result("capacity", f"cluster capacity: {one_line(r.health.message)}", [])
    r = bad[0]
    msg = r.health.message if r.health else ""
    return Result("unknown", f"{resource(r.key)}: {one_line(msg, 200) or 'no pod problem found'}", [])


def _rollout_start(facts: Facts, res: ResourceState) -> datetime | None:
    if res.live is None:
        return None
    times = [
        t
        for c in facts.children(res.live)
        if c.get("kind") == "ReplicaSet"
        and (t := parse_time((c.get("metadata") or {}).get("creationTimestamp")))
    ]
    return max(times) if times else None


def _template_writer(live: Obj, after: datetime | None) -> str:
    """Who last changed the pod template (an annotation such as kubectl's restartedAt)."""
    for entry in sorted(
        (live.get("metadata") or {}).get("managedFields") or [],
        key=lambda e: str(e.get("time") or ""),
        reverse=True,
    ):
        fields = ((entry.get("fieldsV1") or {}).get("f:spec") or {}).get("f:template")
        if fields is None:
            continue
        t = parse_time(entry.get("time"))
        if after is not None and t is not None and t < after - timedelta(seconds=5):
            continue
        return str(entry.get("manager") or "")
    return ""


@check("revision-changed", "the trouble began with a sync of a new revision (a release), not without one")
def revision_changed(facts: Facts, _p: Any) -> Result:
    deployed = facts.deployed_revision
    hist = facts.history
    synced_at = parse_time(hist[-1].get("deployedAt")) if hist else None
    bad = [r for r in unhealthy(facts) if r.key.kind in ("Deployment", "StatefulSet", "DaemonSet")]
    start = _rollout_start(facts, bad[0]) if bad else None
    changed = len(hist) >= 2 and hist[-1].get("revision") != hist[-2].get("revision")
    if changed and synced_at is not None and (start is None or start >= synced_at - timedelta(seconds=10)):
        return Result(
            "yes",
            f"yes: it began with the sync to {deployed[:7]} at {clock(synced_at)} ({ago(facts.now, synced_at)})",
            [f"{resource(bad[0].key)} rolled out at {clock(start)}" if bad and start else ""],
            {"revision": deployed},
        )
    evidence = [f"the running revision {deployed[:7]} was synced {ago(facts.now, synced_at)}"]
    if bad and start is not None and bad[0].live is not None:
        writer = _template_writer(bad[0].live, start)
        who = f" by {writer}" if writer else ""
        human = " (a person)" if writer and is_human(writer) else ""
        evidence.append(
            f"{resource(bad[0].key)} started a rollout at {clock(start)}{who}{human}, without a Git change"
        )
    return Result("no", "no: " + "; ".join(evidence), evidence)


@check("image-check", "the images the workloads run are the ones Git names, and pinned by digest")
def image_check(facts: Facts, _p: Any) -> Result:
    evidence = []
    ok = True
    for img in facts.comparison.images:
        pinned = "@sha256:" in img
        evidence.append(f"Git names {img}" + ("" if pinned else " (a tag, not a digest: it can move)"))
    for r in unhealthy(facts):
        for p in pod_problems(facts, r):
            if p.image:
                ok = False
                evidence.append(f"{p.pod}: cannot pull {p.image} ({p.reason})")
    if ok:
        return Result("yes", "yes: every desired image runs", evidence)
    return Result("no", "no: " + next(e for e in evidence if "cannot pull" in e), evidence)


def _refs(template: Obj) -> set[tuple[str, str]]:
    spec = template.get("spec") or {}
    refs: set[tuple[str, str]] = set()
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for src in c.get("envFrom") or []:
            if (src.get("configMapRef") or {}).get("name"):
                refs.add(("ConfigMap", src["configMapRef"]["name"]))
            if (src.get("secretRef") or {}).get("name"):
                refs.add(("Secret", src["secretRef"]["name"]))
        for env in c.get("env") or []:
            vf = env.get("valueFrom") or {}
            if (vf.get("configMapKeyRef") or {}).get("name"):
                refs.add(("ConfigMap", vf["configMapKeyRef"]["name"]))
            if (vf.get("secretKeyRef") or {}).get("name"):
                refs.add(("Secret", vf["secretKeyRef"]["name"]))
    for v in spec.get("volumes") or []:
        if (v.get("configMap") or {}).get("name"):
            refs.add(("ConfigMap", v["configMap"]["name"]))
        if (v.get("secret") or {}).get("secretName"):
            refs.add(("Secret", v["secret"]["secretName"]))
    return refs


@check("config-present", "every ConfigMap and Secret the workloads reference exists")
def config_present(facts: Facts, _p: Any) -> Result:
    missing, present = [], 0
    for r in facts.resources:
        if r.live is None or r.key.kind not in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            continue
        for kind, name in sorted(_refs((r.live.get("spec") or {}).get("template") or {})):
            if facts.live_object("v1", kind, r.key.namespace, name) is None:
                missing.append(
                    f"{resource(r.key)} references {kind} {r.key.namespace}/{name}, which does not exist"
                )
            else:
                present += 1
    if missing:
        return Result("no", "no: " + missing[0], missing)
    return Result("yes", f"yes: the {present} referenced ConfigMaps/Secrets exist", [])


@check(
    "admission-mutated", "live objects carry fields Git does not have, written by a controller or admission"
)
def admission_mutated(facts: Facts, _p: Any) -> Result:
    found = [d for d in drifts(facts) if not d.human]
    if not found:
        return Result(
            "no", "no: no field of the live objects was added by a controller or admission mutation"
        )
    return Result("yes", "yes: " + found[0].line(facts), [d.line(facts) for d in found[:6]])


@check("rollout-progress", "the workloads' rollout conditions are progressing (not past their deadline)")
def rollout_progress(facts: Facts, _p: Any) -> Result:
    stalled: list[str] = []
    fine: list[str] = []
    for r in facts.resources:
        if r.live is None or r.key.kind != "Deployment":
            continue
        for c in (r.live.get("status") or {}).get("conditions") or []:
            if c.get("type") != "Progressing":
                continue
            line = f"{resource(r.key)}: Progressing={c.get('status')} {c.get('reason')}: {one_line(c.get('message'), 160)}"
            (stalled if c.get("reason") == "ProgressDeadlineExceeded" else fine).append(line)
    if stalled:
        return Result("no", "no: " + stalled[0], stalled + fine)
    return Result("yes", "yes: rollouts are progressing or complete", fine)


@check("service-available", "the degraded workloads still have available replicas (users are served)")
def service_available(facts: Facts, _p: Any) -> Result:
    lines: list[str] = []
    down: list[str] = []
    for r in unhealthy(facts):
        if r.live is None or r.key.kind not in ("Deployment", "StatefulSet"):
            continue
        st = r.live.get("status") or {}
        want = int((r.live.get("spec") or {}).get("replicas") or 0)
        avail = int(st.get("availableReplicas") or st.get("readyReplicas") or 0)
        line = f"{resource(r.key)}: {avail} of {want} replicas available"
        (down if avail == 0 and want > 0 else lines).append(line)
    if down:
        return Result("no", "no: " + down[0] + " (users are affected)", down + lines)
    if not lines:
        return Result("unknown", "no unhealthy workload to look at")
    return Result("yes", "yes: " + lines[0] + " (the previous version still serves)", lines)
