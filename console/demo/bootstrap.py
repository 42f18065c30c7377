"""`trueup demo init DIR`: a real Git repository, a workspace, four sim clusters, and seeded incidents.

The fleet is deployed from commit 1, then Git moves one commit ahead and a few live incidents are
staged, so the first `trueup refresh` shows the states an on-call engineer should practise on.

Time: staging needs the sim clusters to live through 20 minutes (rollouts finish, a progress
deadline passes). Rather than fast-forwarding past the wall clock, every sim clock starts
`STAGED_SECONDS` in the past and is advanced by exactly that much, so when init returns the sims
read the wall time and nothing the demo shows (managedFields times, operation and history times,
commit dates) lies in the future. The commits and the initial deployment are dated on the same
sim timeline.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import git

from console.cluster.api import Cluster, Obj
from console.engine import annotations as anno
from console.engine import model, tracking, yamlsafe
from console.engine.appstore import AppStore
from console.engine.sources import GitCache, render
from console.engine.sync.operation import cluster_now, rfc3339
from console.engine.sync.tasks import KIND_ORDER
from console.engine.workspace import WORKSPACE_FILE, Workspace, load

CONTENT = resources.files("console.demo") / "content"
AUTHOR = git.Actor("Platform Team", "platform@acme.example")
BOOTSTRAP_MANAGER = "trueup"
DEMO_USER = "demo-bootstrap"
SETTLE_DEPLOY_SECONDS = 15 * 60  # rollouts finish; the unpullable image passes its progress deadline
SETTLE_EDIT_SECONDS = 5 * 60  # the live edit's rollout finishes
STAGED_SECONDS = SETTLE_DEPLOY_SECONDS + SETTLE_EDIT_SECONDS


class DemoError(Exception):
    pass


def _copy_tree(src: Path, dst: Path, repo_url: str) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        out = dst / rel
        if path.is_dir():
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(path.read_text().replace("__REPO_URL__", repo_url))


def _commit_all(repo: git.Repo, message: str, author: git.Actor, at: datetime) -> str:
    repo.git.add("--all")
    date = f"{int(at.timestamp())} +0000"  # git's internal date format
    commit = repo.index.commit(message, author=author, committer=author, author_date=date, commit_date=date)
    return commit.hexsha


def _kind_rank(obj: Obj) -> tuple[int, str]:
    kind = obj.get("kind", "")
    rank = KIND_ORDER.get(kind, 0)
    return rank, obj.get("metadata", {}).get("name", "")


def _render_app(ws: Workspace, gitc: GitCache, app: Obj, sha: str) -> tuple[Cluster, list[Obj]]:
    """Render the app at `sha` into tracked objects for its destination cluster."""
    spec = app["spec"]
    src = spec["source"]
    dest = spec["destination"]
    cfg = ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
    if cfg is None:
        raise DemoError(f"demo app {app['metadata']['name']}: unknown destination {dest}")
    cluster = ws.open_cluster(cfg.name)
    ns = dest.get("namespace", "")
    result = render(gitc.tree(src["repoURL"], sha), src, app_name=app["metadata"]["name"], namespace=ns)
    out: list[Obj] = []
    options = (spec.get("syncPolicy") or {}).get("syncOptions") or []
    if "CreateNamespace=true" in options and ns:
        out.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        )  # untracked, as in Argo
    for obj in sorted((model.map_argo_api_version(o) for o in result.objects), key=_kind_rank):
        if anno.is_hook(obj):
            continue  # hooks run during syncs only; the bootstrap deploys the steady state
        res = cluster.resource_for(obj["apiVersion"], obj["kind"])
        if res.namespaced:
            obj.setdefault("metadata", {}).setdefault("namespace", ns)
        out.append(
            tracking.set_tracking(
                obj,
                app["metadata"]["name"],
                annotation=ws.settings.tracking_annotation,
                default_namespace=ns,
                namespaced=res.namespaced,
            )
        )
    return cluster, out


def _apply_all(rendered: list[tuple[Cluster, list[Obj]]]) -> None:
    """Namespaces of every app first (another app may own them), then everything else in kind order."""
    for first in (True, False):
        for cluster, objs in rendered:
            for obj in objs:
                if (obj.get("kind") == "Namespace") == first:
                    cluster.apply(obj, field_manager=BOOTSTRAP_MANAGER)


def _synced_status(app: Obj, sha: str, when: str) -> Obj:
    """The operation state a completed sync of commit 1 leaves."""
    src = app["spec"]["source"]
    op = {"sync": {"revision": sha}, "initiatedBy": {"username": DEMO_USER, "automated": False}}
    return {
        "operationState": {
            "operation": op,
            "phase": "Succeeded",
            "message": "successfully synced (all tasks run)",
            "startedAt": when,
            "finishedAt": when,
            "syncResult": {"revision": sha, "source": src},
        },
    }


def _record_synced(store: AppStore, app: Obj, sha: str, when: str) -> None:
    """Operation state and history entry 0, exactly as the executor records a finished sync, so
    `app history` lists the initial deployment and `app rollback APP 0` returns to it."""
    from console.engine.sync.history import append_history
    from console.engine.sync.operation import update_status

    def mutate(status: Obj) -> Obj:
        new = {**status, **_synced_status(app, sha, when)}
        state = new["operationState"]
        append_history(new, app, state, state["operation"], deployed_at=when)
        return new

    update_status(store, app["metadata"]["name"], mutate)


def _check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise DemoError(f"{target} is a file, not a directory; choose a new or empty directory")
    if target.is_dir() and any(target.iterdir()):
        if not (target / WORKSPACE_FILE).exists():
            raise DemoError(f"{target} exists and is not empty; choose an empty or new directory")
        if not force:
            raise DemoError(f"{target} already holds a workspace; pass --force to recreate it")


def init_demo(
    target: Path,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    frozen_at: datetime | None = None,
) -> Workspace:
    """Create the demo in `target`. Filesystem problems (a file in the way, no permission, disk
    full) raise DemoError naming the path; a directory this call created is removed again.

    `frozen_at`: build the demo on sim clocks frozen so that staging ends at that instant and
    leave them frozen there (snapshot tests and screenshots: the same world on every run)."""
    try:
        _check_target(target, force)
    except OSError as exc:
        raise DemoError(f"cannot use {target} for the demo: {exc.strerror or exc}") from None
    created = not target.exists()
    try:
        if target.exists() and force:
            shutil.rmtree(target)
        target.mkdir(parents=True, exist_ok=True)
        return _build(target, progress or (lambda _m: None), frozen_at)
    except OSError as exc:
        _clean(target, remove_dir=created)
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(target) else ""
        raise DemoError(
            f"cannot create the demo workspace in {target}: {exc.strerror or exc}{where}; "
            "choose a directory you can write to"
        ) from None
    except BaseException:  # a half-built demo is worse than none (Ctrl-C included)
        _clean(target, remove_dir=created)
        raise


def _clean(target: Path, *, remove_dir: bool) -> None:
    """Undo a failed init: target was new, empty, or (--force) emptied, so all of it is ours."""
    if remove_dir:
        shutil.rmtree(target, ignore_errors=True)
        return
    try:
        children = list(target.iterdir())
    except OSError:
        return
    for child in children:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _build(target: Path, say: Callable[[str], None], frozen_at: datetime | None = None) -> Workspace:
    from console.cluster.sim import SimCluster

    start = (frozen_at or datetime.now(UTC)) - timedelta(seconds=STAGED_SECONDS)

    # 1. Git: bare origin + working clone, two commits.
    say("creating the fleet Git repository")
    bare = target / "git" / "fleet.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    repo_url = bare.as_uri()
    work = git.Repo.init(target / "fleet", initial_branch="main")
    work.create_remote("origin", repo_url)
    _copy_tree(Path(str(CONTENT / "repo")), target / "fleet", repo_url)
    sha1 = _commit_all(work, "Initial fleet", AUTHOR, start)
    work.git.push("origin", "main")

    # 2. Workspace file and sim clusters, their clocks STAGED_SECONDS in the past.
    (target / WORKSPACE_FILE).write_text(
        (CONTENT / "trueup.yaml").read_text().replace("__REPO_URL__", repo_url)
    )
    ws = load(target)
    say("creating sim clusters: " + ", ".join(ws.clusters))
    for cfg in ws.clusters.values():
        path = ws.sim_path(cfg.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if frozen_at is not None:
            sim = SimCluster.create_db(path, cfg.name, cfg.server, frozen_at=start)
        else:
            sim = SimCluster.create_db(path, cfg.name, cfg.server, clock_offset=-STAGED_SECONDS)
        if cfg.unpullable_images:
            sim.set_meta("unpullable_images", list(cfg.unpullable_images))
    control = ws.control()
    store = AppStore(control)
    store.install()

    # 3. Deploy commit 1: the root app, its inventory (projects + apps), then every app.
    say("deploying the fleet from commit " + sha1[:7])
    gitc = GitCache(ws.cache_dir / "git", allow_file_urls=True)
    root_doc = yamlsafe.load_one(
        (target / "fleet" / "bootstrap" / "cluster-root.yaml").read_bytes(), "cluster-root.yaml"
    )
    root = model.map_argo_api_version(root_doc)
    control.apply(root, field_manager=BOOTSTRAP_MANAGER)
    _apply_all([_render_app(ws, gitc, root, sha1)])
    when = rfc3339(cluster_now(control))
    _record_synced(store, root, sha1, when)
    apps = [a for a in store.list_apps() if a["metadata"]["name"] != root["metadata"]["name"]]
    _apply_all([_render_app(ws, gitc, app, sha1) for app in apps])
    for app in apps:
        _record_synced(store, app, sha1, when)

    # 4. Let the clusters settle (rollouts finish; the unpullable image passes its progress deadline).
    _settle(ws, SETTLE_DEPLOY_SECONDS)

    # 5. Git moves one commit ahead (payments-api prod-us digest, prod-eu config).
    _copy_tree(Path(str(CONTENT / "commit-ahead")), target / "fleet", repo_url)
    _commit_all(
        work,
        "payments-api: roll out new image digest to prod-us; prod-eu config change",
        AUTHOR,
        cluster_now(control),
    )
    work.git.push("origin", "main")

    # 6. A live edit on identity-api-prod-us by `kubectl edit` (drift, selfHeal off).
    say("staging incidents")
    _live_edit_identity(ws)
    _settle(ws, SETTLE_EDIT_SECONDS)  # the edit's rollout finishes: drifted but healthy
    return ws


def _settle(ws: Workspace, seconds: float) -> None:
    """Advance every sim cluster's clock so its controllers catch up."""
    for cfg in ws.clusters.values():
        cluster = ws.open_cluster(cfg.name)
        clock = getattr(cluster, "clock", None)
        if clock is not None:
            clock.advance(seconds)
        tick = getattr(cluster, "tick", None)
        if callable(tick):
            tick()


def _live_edit_identity(ws: Workspace) -> None:
    cluster: Cluster = ws.open_cluster("prod-us")
    dep = cluster.get("apps/v1", "Deployment", "identity", "identity-api")
    containers = dep["spec"]["template"]["spec"]["containers"]
    env = containers[0].get("env") or []
    for e in env:
        if e.get("name") == "LOG_LEVEL":
            e["value"] = "debug"
            break
    else:
        env.append({"name": "LOG_LEVEL", "value": "debug"})
    containers[0]["env"] = env
    cluster.update(dep, field_manager="kubectl-edit")
