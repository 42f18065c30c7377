"""`trueup apply -f FILE|DIR|-`: Applications, AppProjects and ApplicationSets from multi-document YAML.

As kubectl: one line per object (created / configured / unchanged); an invalid object fails that
object only, with the field named, and the batch goes on (exit 2 if any failed, 3 if one was refused by RBAC). `argoproj.io`
manifests are mapped to trueup.dev. AppProjects are written before the Applications of the same
batch, so an app finds its new project.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.cli import governance as gov
from console.cli.errors import CommandError
from console.cli.output import emit_json, error
from console.cluster.api import NotFound
from console.engine import manage, model, yamlsafe
from console.engine.appstore import AppStore
from console.engine.workspace import open_workspace

_SUFFIXES = (".yaml", ".yml", ".json")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "apply",
        help="create or update Applications/AppProjects/ApplicationSets from YAML (argoproj.io too)",
        description="Apply manifests as kubectl does: one line per object, created/configured/unchanged. "
        "An invalid object fails alone (exit 2 at the end).",
    )
    p.add_argument(
        "-f",
        "--filename",
        action="append",
        required=True,
        metavar="FILE|DIR|-",
        help="file, directory or - for stdin (repeatable)",
    )
    p.add_argument("-R", "--recursive", action="store_true", help="read directories recursively")
    p.add_argument("-o", "--output", choices=["json"], metavar="json", help="output format")
    p.set_defaults(run=cmd_apply)


def _files(target: str, recursive: bool) -> list[tuple[str, bytes]]:
    if target == "-":
        return [("<stdin>", sys.stdin.buffer.read(yamlsafe.MAX_BYTES + 1))]
    path = Path(target).expanduser()
    if path.is_dir():
        found = sorted(path.rglob("*") if recursive else path.iterdir())
        files = [f for f in found if f.is_file() and f.suffix in _SUFFIXES]
        return [(str(f), f.read_bytes()) for f in files]
    if not path.exists():
        raise CommandError(f"the path {target!r} does not exist")
    return [(str(path), path.read_bytes())]


def _writer(store: AppStore, desired: dict[str, Any]) -> Callable[[], manage.Outcome]:
    return lambda: manage.write(store, desired)


def _action(store: AppStore, kind: str, name: str) -> str:
    """RBAC's word for this write: create for a new object, update for an existing one."""
    try:
        store.cluster.get(model.API_VERSION, kind, model.CONTROL_NAMESPACE, name)
    except NotFound:
        return "create"
    return "update"


def cmd_apply(args: argparse.Namespace) -> int:
    ws = open_workspace(getattr(args, "workspace", None))
    store = AppStore(ws.control())
    docs: list[tuple[str, Any]] = []
    failed = 0
    worst = 2  # exit code: 2 invalid objects; 3 when an object was refused by RBAC
    results: list[dict[str, Any]] = []
    for target in args.filename:
        for shown, data in _files(target, args.recursive):
            try:
                loaded = yamlsafe.load_all(data, shown)
            except yamlsafe.ManifestError as exc:
                error(f"{exc}")
                results.append({"source": shown, "error": str(exc)})
                failed += 1
                continue
            for i, doc in enumerate(loaded, start=1):
                if doc is None:
                    continue
                if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
                    docs.extend(
                        (f"{shown} document {i} item {j}", item) for j, item in enumerate(doc["items"], 1)
                    )
                else:
                    docs.append((f"{shown} document {i}", doc))
    projects: dict[str, Any] = {}
    for index, obj in manage.sort_for_apply([d for _, d in docs]):
        where = docs[index][0]
        try:
            desired = manage.validate(ws, store, obj, known_projects=projects)
            kind, name = desired["kind"], desired["metadata"]["name"]
            resource = {
                "Application": "applications",
                "AppProject": "projects",
                "ApplicationSet": "applicationsets",
            }[kind]
            project = str((desired.get("spec") or {}).get("project") or model.DEFAULT_PROJECT)
            target = f"{project}/{name}" if resource in ("applications", "applicationsets") else name
            outcome = manage.attempt(
                ws,
                _action(store, kind, name),
                resource,
                target,
                _writer(store, desired),
                identity=gov.identity(ws, args),
                on_warning=gov.warn,
            )
        except manage.ObjectRefused as exc:
            error(f"{where}: {exc}")
            results.append({"source": where, "error": str(exc)})
            failed += 1
            worst = max(worst, exc.code)
            continue
        if outcome.kind == model.KIND_APPPROJECT:
            projects[outcome.name] = desired
        results.append(
            {"source": where, "kind": outcome.kind, "name": outcome.name, "result": outcome.result}
        )
        if args.output != "json":
            print(outcome.line())
    if args.output == "json":
        emit_json(results)
    if not docs and not failed:
        raise CommandError("no objects passed to apply")
    return worst if failed else 0
