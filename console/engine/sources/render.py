"""Render an Application source (Directory, Kustomize, Helm) from an exported Git tree.

Everything a repository controls is treated as hostile: the app path and every path-bearing field
must stay inside the tree (Argo CD's CVE-2022-24348/24904 class; every path a kustomization names
is checked by `confine` before kustomize runs), symlinks leaving the tree fail the render as in
Argo CD, YAML goes through `yamlsafe` only, and the tools run offline with argv
lists, a throwaway HOME and a timeout. Output order is deterministic: files sorted by path then
document for Directory apps, the tool's own order for Kustomize and Helm.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from console.engine import yamlsafe
from console.engine.sources import confine
from console.engine.sources.cache import ManifestCache
from console.engine.sources.confine import KUSTOMIZATION_NAMES
from console.engine.sources.result import RenderResult

if TYPE_CHECKING:
    from console.engine.sources.helmrepo import HelmRepos
from console.engine.sources.tools import TOOL_TIMEOUT, find_tool, run_tool, tool_env, tool_locations

TOOL_OUTPUT_MAX = 64 * 1024 * 1024
MAX_COMBINED_BYTES = 64 * 1024 * 1024  # all files of one Directory app
_MANIFEST_FILE = re.compile(r"^.*\.(yaml|yml|json|jsonnet)$")
_RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KUBE_VERSION = re.compile(r"^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.\-+]*)?$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_HOOK_ANNOTATIONS = ("argocd.argoproj.io/hook", "helm.sh/hook")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


class RenderError(Exception):
    """Manifest generation failed; one line naming the file or tool. `.tool` says which renderer."""

    def __init__(self, message: str, *, tool: str) -> None:
        super().__init__(" ".join(message.split()))
        self.tool = tool


def _is_set(block: Any) -> bool:
    """Argo CD's IsZero: a tool block counts only when some field has a non-empty value."""
    if not isinstance(block, dict):
        return bool(block)
    return any(v not in (None, "", False, [], {}, 0) for v in block.values())


def detect_source_type(path: Path, source: dict[str, Any]) -> str:
    """Explicit tool block wins; else kustomization file => Kustomize, Chart.yaml => Helm, else Directory."""
    explicit = [
        name
        for key, name in (
            ("helm", "Helm"),
            ("kustomize", "Kustomize"),
            ("directory", "Directory"),
            ("plugin", "Plugin"),
        )
        if _is_set(source.get(key))
    ]
    if len(explicit) > 1:
        raise RenderError(f"multiple application sources defined: {','.join(explicit)}", tool="repository")
    if explicit:
        return explicit[0]
    if source.get("chart"):
        return "Helm"
    if any((path / n).is_file() for n in KUSTOMIZATION_NAMES):
        return "Kustomize"
    if (path / "Chart.yaml").is_file():
        return "Helm"
    return "Directory"


def render(
    tree: Path,
    source: dict[str, Any],
    *,
    app_name: str,
    namespace: str,
    kube_version: str | None = None,
    cache: ManifestCache | None = None,
    revision: str | None = None,
    helm_repos: HelmRepos | None = None,
) -> RenderResult:
    """Desired objects of one Application source; cached by commit SHA when `cache` is given.

    A `chart` source renders the chart pulled into `tree` (tree/<chart>, see sources.helmrepo)."""
    tree = Path(tree)
    if source.get("chart"):
        chart = str(source["chart"])
        if "/" in chart or chart in (".", "..") or not chart:
            raise RenderError(f"invalid chart name {chart!r}", tool="helm")
        source = {**source, "path": chart}
    rel = _clean_app_path(source.get("path"))
    app_dir = _app_dir(tree, rel)
    source_type = detect_source_type(app_dir, source)
    key = None
    if cache is not None and revision and _FULL_SHA.match(revision):
        key = cache.key(
            revision=revision,
            path=rel,
            source_type=source_type,
            tool={k: source[k] for k in ("helm", "kustomize", "directory", "plugin", "chart") if k in source},
            app_name=app_name,
            namespace=namespace,
            kube_version=kube_version,
        )
        hit = cache.get(key)
        if hit is not None:
            return hit
    _check_symlinks(tree)
    if source_type == "Directory":
        result = _render_directory(
            tree, app_dir, rel, source.get("directory") or {}, app_name, namespace, revision
        )
    elif source_type == "Kustomize":
        result = _render_kustomize(
            tree, app_dir, rel, source.get("kustomize") or {}, app_name, namespace, revision
        )
    elif source_type == "Helm":
        result = _render_helm(
            tree, app_dir, rel, source.get("helm") or {}, app_name, namespace, kube_version, helm_repos
        )
    else:
        raise RenderError(
            f"{source_type} sources (Config Management Plugins) are not supported by trueup", tool="plugin"
        )
    if key is not None and cache is not None:
        cache.put(key, result)
    return result


# -- paths -----------------------------------------------------------------------------------


def _clean_app_path(path: Any) -> str:
    if path is None or path == "":
        return "."
    if not isinstance(path, str):
        raise RenderError(f"app path {path!r} is not a string", tool="repository")
    if path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path):
        raise RenderError(f"{path}: app path is absolute", tool="repository")
    parts = PurePosixPath(path).parts
    if ".." in parts:
        raise RenderError(f"{path}: app path must not contain '..'", tool="repository")
    clean = PurePosixPath(*parts).as_posix() if parts else "."
    return clean


def _inside(path: Path, root: Path) -> bool:
    real = path.resolve()
    return real == root or real.is_relative_to(root)


def _app_dir(tree: Path, rel: str) -> Path:
    root = tree.resolve()
    app_dir = tree / rel
    if not _inside(app_dir, root):
        raise RenderError(f"{rel}: app path outside root (symlink leaves the repository)", tool="repository")
    if not app_dir.exists():
        raise RenderError(f"{rel}: app path does not exist", tool="repository")
    if not app_dir.is_dir():
        raise RenderError(f"{rel}: app path is not a directory", tool="repository")
    return app_dir


_SYMLINK_OK: set[str] = set()  # exported trees are immutable (one per commit), so check each once


def _check_symlinks(tree: Path) -> None:
    """Argo CD's rule: a repository with a symlink pointing outside it renders nothing."""
    key = str(tree.resolve())
    if key in _SYMLINK_OK:
        return
    root = Path(key)
    stack = [key]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    if not _inside(Path(entry.path), root):
                        rel = Path(entry.path).relative_to(root).as_posix()
                        raise RenderError(
                            f"repository contains out-of-bounds symlinks. file: {rel}", tool="repository"
                        )
                elif entry.is_dir():
                    stack.append(entry.path)
    if len(_SYMLINK_OK) > 4096:
        _SYMLINK_OK.clear()
    _SYMLINK_OK.add(key)


def _inside_tree(tree: Path, base: Path, rel: str, what: str, tool: str) -> Path:
    """Resolve a repo-relative path field (value file, patch, component) and keep it in the tree."""
    if _URL.match(rel):
        raise RenderError(f"{what} {rel}: remote files are not supported (trueup renders offline)", tool=tool)
    candidate = (tree / rel.lstrip("/")) if rel.startswith("/") else (base / rel)
    if not _inside(candidate, tree.resolve()):
        raise RenderError(f"{what} {rel} resolved to outside repository root", tool=tool)
    return candidate


# -- object checks ---------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not representable in JSON")


def _objects(docs: list[Any], where: str, tool: str) -> list[dict[str, Any]]:
    """Validated objects as plain JSON data (YAML dates/binary turned into strings, aliases unshared)."""
    try:
        docs = json.loads(json.dumps(docs, default=_json_default))
    except (TypeError, ValueError) as exc:
        raise RenderError(f"{where}: {exc}", tool=tool) from None
    out: list[dict[str, Any]] = []
    for i, doc in enumerate(docs, start=1):
        here = f"{where}: document {i}"
        if not isinstance(doc, dict):
            raise RenderError(f"{here} is a {type(doc).__name__}, not a Kubernetes object", tool=tool)
        try:
            expanded = list(yamlsafe.iter_objects([doc], here))
        except yamlsafe.ManifestError as exc:
            raise RenderError(str(exc), tool=tool) from None
        for obj in expanded:
            _check_object(obj, here, tool)
            out.append(obj)
    return out


def _check_object(obj: dict[str, Any], where: str, tool: str) -> None:
    missing = [f for f in ("apiVersion", "kind") if not isinstance(obj.get(f), str) or not obj.get(f)]
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        missing.append("metadata")
    elif not meta.get("name"):
        annotations = meta.get("annotations") or {}
        is_hook = isinstance(annotations, dict) and any(a in annotations for a in _HOOK_ANNOTATIONS)
        if not (meta.get("generateName") and is_hook):
            missing.append(
                "metadata.name"
                + (" (generateName is only allowed on hooks)" if meta.get("generateName") else "")
            )
    if missing:
        raise RenderError(f"{where}: object is missing {', '.join(missing)}", tool=tool)


# -- Directory -------------------------------------------------------------------------------


def glob_match(pattern: str, text: str) -> bool:
    """Argo CD's include/exclude glob (gobwas, no separators): `*` and `**` cross '/', `{a,b}` lists."""
    return _glob_regex(pattern).match(text) is not None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            while i + 1 < len(pattern) and pattern[i + 1] == "*":
                i += 1
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                neg = body.startswith("!")
                body = body[1:] if neg else body
                out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
                i = end
        elif c == "{":
            out.append("(?:")
            depth += 1
        elif c == "," and depth:
            out.append("|")
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise RenderError(f"invalid glob {pattern!r}: unclosed '{{'", tool="directory")
    try:
        return re.compile("^" + "".join(out) + "$", re.S)
    except re.error as exc:
        raise RenderError(f"invalid glob {pattern!r}: {exc}", tool="directory") from None


def _render_directory(
    tree: Path,
    app_dir: Path,
    rel: str,
    block: dict[str, Any],
    app_name: str = "",
    namespace: str = "",
    revision: str | None = None,
) -> RenderResult:
    recurse = bool(block.get("recurse"))
    include = block.get("include") or ""
    exclude = block.get("exclude") or ""
    files: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(app_dir):
        # Hidden directories (.git, .github, ...) are not manifests; symlinked dirs are not followed.
        dirnames[:] = sorted(d for d in dirnames if recurse and not d.startswith("."))
        for name in filenames:
            if not _MANIFEST_FILE.match(name):
                continue
            full = Path(dirpath) / name
            relpath = full.relative_to(app_dir).as_posix()
            if exclude and glob_match(exclude, relpath):
                continue
            if include and not glob_match(include, relpath):
                continue
            files.append((relpath, full))
    files.sort()
    objects: list[dict[str, Any]] = []
    total = 0
    for relpath, full in files:
        shown = relpath if rel == "." else f"{rel}/{relpath}"
        if not full.is_file():
            continue  # dangling in-tree symlink or a directory named *.yaml
        size = full.stat().st_size
        if size > yamlsafe.MAX_BYTES:
            raise RenderError(
                f"{shown}: {size / 1024 / 1024:.1f} MB exceeds the "
                f"{yamlsafe.MAX_BYTES / 1024 / 1024:.0f} MB manifest limit",
                tool="directory",
            )
        total += size
        if total > MAX_COMBINED_BYTES:
            raise RenderError(
                f"{rel}: manifests exceed the combined limit of {MAX_COMBINED_BYTES // 1024 // 1024} MB",
                tool="directory",
            )
        if relpath.endswith(".jsonnet"):
            from console.engine.sources import jsonnet

            try:
                docs = jsonnet.evaluate(tree, full, shown, block.get("jsonnet") or {})
            except jsonnet.JsonnetError as exc:
                raise RenderError(str(exc), tool="jsonnet") from None
            objects.extend(_objects(docs, shown, "jsonnet"))
            continue
        try:
            docs = yamlsafe.load_all(full.read_bytes(), shown)
        except yamlsafe.ManifestError as exc:
            raise RenderError(str(exc), tool="directory") from None
        objects.extend(_objects(docs, shown, "directory"))
    return RenderResult(objects=objects, source_type="Directory", warnings=[])


# -- tool helpers ----------------------------------------------------------------------------


# kustomize's two file-loader refusals differ by whether the path exists ("evalsymlink failure ...
# no such file" vs "security; file ... is not in or below"): for a path outside the repository both
# become one message, so an error never tells whether a host path exists, nor names it.
_KUSTOMIZE_FILE_ERRORS = re.compile(
    r"evalsymlink failure on '(?P<a>/[^']*)' : lstat [^:]*: no such file or directory"
    r"|security; file '(?P<b>/[^']*)' is not in or below '[^']*'"
)


def _tree_scrub(tree: Path) -> dict[str, str]:
    """Host paths of the tree -> repo-relative ones, longest first (the tree root itself is ".")."""
    real, given = str(tree.resolve()), str(tree)
    return {real + "/": "", given + "/": "", real: ".", given: "."}


def _scrubbed(text: str, scrub: dict[str, str]) -> str:
    for raw, shown in scrub.items():
        text = text.replace(raw, shown)
    return _KUSTOMIZE_FILE_ERRORS.sub("a file outside the repository is named", text)


def _tool_failure(what: str, run_stderr: str, scrub: dict[str, str]) -> str:
    text = _scrubbed(run_stderr, scrub)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = "; ".join(lines[:3])[:500] or "no error output"
    return f"{what}: {detail}"


def _tool_warnings(stderr: str, scrub: dict[str, str]) -> list[str]:
    stderr = _scrubbed(stderr, scrub)
    return [ln.strip() for ln in stderr.splitlines() if ln.strip()][:5]


def _template_at(stdout: bytes, line: int) -> str:
    """The `# Source: chart/templates/x.yaml` comment helm writes above the document at `line`."""
    lines = stdout.decode("utf-8", "replace").splitlines()[:line]
    for text in reversed(lines):
        if text.startswith("# Source: "):
            return text[len("# Source: ") :].strip()
    return ""


def _parse_tool_output(stdout: bytes, where: str, tool: str) -> list[dict[str, Any]]:
    try:
        docs = yamlsafe.load_all(stdout, where, max_bytes=TOOL_OUTPUT_MAX)
    except yamlsafe.ManifestError as exc:
        template = _template_at(stdout, exc.line) if exc.line else ""
        raise RenderError(str(exc) + (f" (in {template})" if template else ""), tool=tool) from None
    return _objects(docs, where, tool)


# -- Kustomize -------------------------------------------------------------------------------

_ENV_REF = re.compile(r"\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _parse_image(spec: str) -> dict[str, str]:
    """Argo CD / `kustomize edit set image` syntax: [old=]new[:tag|@digest]."""
    if not isinstance(spec, str) or not spec:
        raise RenderError(f"invalid kustomize image {spec!r}", tool="kustomize")
    name, eq, rest = spec.partition("=")
    target = rest if eq else spec
    image: dict[str, str] = {}
    ref, at, digest = target.partition("@")
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    repo, tag = (ref[:colon], ref[colon + 1 :]) if colon > slash else (ref, "")
    if eq:
        image["name"] = name
        if repo and repo != name:
            image["newName"] = repo
    else:
        image["name"] = repo
    if tag:
        image["newTag"] = tag
    if at:
        image["digest"] = digest
    return image


def _kustomize_overlay(
    tree: Path,
    app_dir: Path,
    block: dict[str, Any],
    overlay: Path,
    env: dict[str, str],
) -> bool:
    """Write an overlay applying the Application's kustomize block; False when there is nothing to apply.

    Argo CD runs `kustomize edit` inside its private checkout; our trees are shared and read-only,
    so the overrides go into a temp overlay whose only resource is the app directory (by relative
    path, which kustomize allows under its default LoadRestrictionsRootOnly — the app's own files
    stay restricted). One difference: namePrefix/nameSuffix here add to a prefix the app already
    sets instead of replacing it.
    """
    k: dict[str, Any] = {}
    for fld in ("namePrefix", "nameSuffix", "namespace"):
        if block.get(fld):
            k[fld] = str(block[fld])
    if block.get("images"):
        k["images"] = [_parse_image(s) for s in block["images"]]
    if block.get("commonLabels"):
        pairs = {str(a): str(b) for a, b in dict(block["commonLabels"]).items()}
        entry: dict[str, Any] = {"pairs": pairs, "includeSelectors": not block.get("labelWithoutSelector")}
        if block.get("labelWithoutSelector") and block.get("labelIncludeTemplates"):
            entry["includeTemplates"] = True
        k["labels"] = [entry]
    if block.get("commonAnnotations"):
        annotations = {str(a): str(b) for a, b in dict(block["commonAnnotations"]).items()}
        if block.get("commonAnnotationsEnvsubst"):
            annotations = {
                a: _ENV_REF.sub(lambda m: env.get(m.group(2) or m.group(3), ""), v)
                for a, v in annotations.items()
            }
        k["commonAnnotations"] = annotations
    if block.get("replicas"):
        reps = []
        for r in block["replicas"]:
            try:
                reps.append({"name": str(r["name"]), "count": int(str(r["count"]))})
            except (KeyError, TypeError, ValueError):
                raise RenderError(f"invalid kustomize replicas entry {r!r}", tool="kustomize") from None
        k["replicas"] = reps
    if block.get("patches"):
        patches = []
        for i, p in enumerate(block["patches"]):
            if not isinstance(p, dict):
                raise RenderError(f"invalid kustomize patch {p!r}", tool="kustomize")
            entry = {f: p[f] for f in ("patch", "target", "options") if p.get(f)}
            if p.get("path"):
                src = _inside_tree(tree, app_dir, str(p["path"]), "kustomize patch", "kustomize")
                if not src.is_file():
                    raise RenderError(f"kustomize patch {p['path']} does not exist", tool="kustomize")
                overlay.mkdir(parents=True, exist_ok=True)
                dst = overlay / f"patch-{i}{src.suffix}"
                shutil.copyfile(src, dst)
                entry["path"] = dst.name
            patches.append(entry)
        k["patches"] = patches
    if block.get("components"):
        comps = []
        for c in block["components"]:
            comp = _inside_tree(tree, app_dir, str(c), "kustomize component", "kustomize")
            if not comp.is_dir():
                if block.get("ignoreMissingComponents"):
                    continue
                raise RenderError(f"kustomize component {c} does not exist", tool="kustomize")
            comps.append(os.path.relpath(comp, overlay))
        if comps:
            k["components"] = comps
    if not k:
        return False
    overlay.mkdir(parents=True, exist_ok=True)
    k = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(app_dir, overlay)],
        **k,
    }
    (overlay / "kustomization.yaml").write_text(json.dumps(k, indent=1))
    return True


def _render_kustomize(
    tree: Path,
    app_dir: Path,
    rel: str,
    block: dict[str, Any],
    app_name: str,
    namespace: str,
    revision: str | None,
) -> RenderResult:
    if not any((app_dir / n).is_file() for n in KUSTOMIZATION_NAMES):
        raise RenderError(
            f"{rel}: no kustomization.yaml, kustomization.yml or Kustomization file", tool="kustomize"
        )
    kubectl = find_tool("kubectl")
    if kubectl is None:
        raise RenderError(
            "kubectl is not installed: Kustomize sources need kubectl "
            f"(looked in {', '.join(tool_locations('kubectl'))})",
            tool="kustomize",
        )
    components = [
        comp
        for c in block.get("components") or []
        if (comp := _inside_tree(tree, app_dir, str(c), "kustomize component", "kustomize")).is_dir()
    ]
    try:
        confine.check_kustomizations(tree, [app_dir, *components])
    except confine.OutsideRepository as exc:
        raise RenderError(f"kustomize build of {rel} failed: {exc}", tool="kustomize") from None
    with tempfile.TemporaryDirectory(prefix="trueup-kustomize-") as tmpname:
        tmp = Path(tmpname)
        home = tmp / "home"
        home.mkdir()
        envsubst = {
            "ARGOCD_APP_NAME": app_name,
            "ARGOCD_APP_NAMESPACE": namespace,
            "ARGOCD_APP_REVISION": revision or "",
            "ARGOCD_APP_REVISION_SHORT": (revision or "")[:7],
        }
        overlay = tmp / "overlay"
        target = overlay if _kustomize_overlay(tree, app_dir, block, overlay, envsubst) else app_dir
        run = run_tool(
            [kubectl, "kustomize", "--load-restrictor=LoadRestrictionsRootOnly", "--", str(target)],
            env=tool_env(home),
            cwd=home,
        )
        scrub = _tree_scrub(tree) | {str(tmp): "<overlay>"}
        if run.timed_out:
            raise RenderError(
                f"kustomize build of {rel} timed out after {TOOL_TIMEOUT:g} s", tool="kustomize"
            )
        if run.returncode != 0:
            raise RenderError(
                _tool_failure(f"kustomize build of {rel} failed", run.stderr, scrub), tool="kustomize"
            )
    objects = _parse_tool_output(run.stdout, f"kustomize build of {rel}", "kustomize")
    warnings = _tool_warnings(run.stderr, scrub)
    return RenderResult(objects=objects, source_type="Kustomize", warnings=warnings)


# -- Helm ------------------------------------------------------------------------------------


def _helm_set_value(value: str) -> str:
    """Escape commas as Argo CD does, so one parameter never splits into several `--set` pairs."""
    if value.startswith("{") and value.endswith("}"):
        return value
    return re.sub(r"(?<!\\),", r"\\,", value)


def _vendored(app_dir: Path, dep: str) -> bool:
    charts = app_dir / "charts"
    if not charts.is_dir():
        return False
    for entry in charts.iterdir():
        if entry.is_file() and entry.name.startswith(f"{dep}-") and entry.name.endswith(".tgz"):
            return True
        if entry.is_dir() and (entry / "Chart.yaml").is_file():
            if entry.name == dep:
                return True
            try:
                meta = yamlsafe.load_one((entry / "Chart.yaml").read_bytes(), str(entry / "Chart.yaml"))
            except yamlsafe.ManifestError:
                continue
            if isinstance(meta, dict) and meta.get("name") == dep:
                return True
    return False


def _render_helm(
    tree: Path,
    app_dir: Path,
    rel: str,
    block: dict[str, Any],
    app_name: str,
    namespace: str,
    kube_version: str | None,
    helm_repos: HelmRepos | None = None,
) -> RenderResult:
    chart_file = app_dir / "Chart.yaml"
    if not chart_file.is_file():
        raise RenderError(f"{rel}: no Chart.yaml, not a Helm chart", tool="helm")
    helm = find_tool("helm")
    if helm is None:
        raise RenderError(
            f"helm is not installed: Helm sources need the helm binary (looked in {', '.join(tool_locations('helm'))})",
            tool="helm",
        )
    shown_chart = f"{rel}/Chart.yaml" if rel != "." else "Chart.yaml"
    try:
        chart = yamlsafe.load_one(chart_file.read_bytes(), shown_chart)
    except yamlsafe.ManifestError as exc:
        raise RenderError(str(exc), tool="helm") from None
    if not isinstance(chart, dict):
        raise RenderError(f"{shown_chart}: not a chart definition", tool="helm")
    try:
        confine.check_chart_dependencies(tree, app_dir, chart, shown_chart)
    except confine.OutsideRepository as exc:
        raise RenderError(str(exc), tool="helm") from None
    missing = [
        str(dep.get("name"))
        for dep in chart.get("dependencies") or []
        if isinstance(dep, dict) and dep.get("name") and not _vendored(app_dir, str(dep.get("name")))
    ]
    if missing and helm_repos is None:
        raise RenderError(
            f"{rel}: chart dependency {missing[0]!r} is not vendored in charts/ (run `helm dependency build` "
            "and commit charts/, or register its repository with `trueup repo add URL --type helm`)",
            tool="helm",
        )
    release = str(block.get("releaseName") or app_name)
    if len(release) > 53 or not _RELEASE_NAME.match(release):
        raise RenderError(
            f"invalid Helm release name {release!r}: lowercase letters, digits, '-' and '.', at most 53 characters",
            tool="helm",
        )
    ns = str(block.get("namespace") or namespace)
    kv = block.get("kubeVersion") or kube_version
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="trueup-helm-") as tmpname:
        tmp = Path(tmpname)
        home = tmp / "home"
        home.mkdir()
        chart_arg = app_dir
        if missing:
            assert helm_repos is not None
            chart_arg = _built_chart(tree, app_dir, chart, shown_chart, tmp / "build", helm_repos)
        argv = [helm, "template", f"--namespace={ns}"]
        for vf in block.get("valueFiles") or []:
            vf = str(vf)
            if vf.startswith("$"):
                raise RenderError(
                    f"value file {vf}: $ref value files (multiple sources) are not supported", tool="helm"
                )
            path = _inside_tree(tree, app_dir, vf, "value file", "helm")
            if not path.is_file():
                if block.get("ignoreMissingValueFiles"):
                    warnings.append(f"value file {vf} does not exist; ignored")
                    continue
                raise RenderError(f"{rel}: value file {vf} does not exist", tool="helm")
            argv.append(f"--values={path}")
        inline: Any = block.get("valuesObject")
        if inline:
            (tmp / "values.yaml").write_text(json.dumps(inline))
            argv.append(f"--values={tmp / 'values.yaml'}")
        elif block.get("values"):
            values = block["values"]
            text = values if isinstance(values, str) else json.dumps(values)
            try:
                yamlsafe.load_all(text, "helm.values")
            except yamlsafe.ManifestError as exc:
                raise RenderError(str(exc), tool="helm") from None
            (tmp / "values.yaml").write_text(text)
            argv.append(f"--values={tmp / 'values.yaml'}")
        for p in block.get("parameters") or []:
            if not isinstance(p, dict) or not p.get("name"):
                raise RenderError(f"invalid helm parameter {p!r}", tool="helm")
            flag = "--set-string" if p.get("forceString") else "--set"
            argv.append(f"{flag}={p['name']}={_helm_set_value(str(p.get('value', '')))}")
        for p in block.get("fileParameters") or []:
            if not isinstance(p, dict) or not p.get("name") or not p.get("path"):
                raise RenderError(f"invalid helm file parameter {p!r}", tool="helm")
            path = _inside_tree(tree, app_dir, str(p["path"]), "file parameter", "helm")
            if not path.is_file():
                raise RenderError(f"{rel}: file parameter {p['path']} does not exist", tool="helm")
            argv.append(f"--set-file={p['name']}={path}")
        if kv:
            if not _KUBE_VERSION.match(str(kv)):
                raise RenderError(f"invalid kube version {kv!r}", tool="helm")
            argv.append(f"--kube-version={kv}")
        for api in block.get("apiVersions") or []:
            argv.append(f"--api-versions={api}")
        argv.append("--skip-crds" if block.get("skipCrds") else "--include-crds")
        if block.get("skipTests"):
            argv.append("--skip-tests")
        if block.get("skipSchemaValidation"):
            argv.append("--skip-schema-validation")
        argv += ["--", release, str(chart_arg)]
        helm_env = {
            "HELM_CACHE_HOME": str(tmp / "cache"),
            "HELM_CONFIG_HOME": str(tmp / "config"),
            "HELM_DATA_HOME": str(tmp / "data"),
            "HELM_PLUGINS": str(tmp / "plugins"),
            "HELM_REGISTRY_CONFIG": str(tmp / "registry.json"),
            "HELM_REPOSITORY_CONFIG": str(tmp / "repositories.yaml"),
            "HELM_REPOSITORY_CACHE": str(tmp / "repository"),
        }
        run = run_tool(argv, env=tool_env(home, helm_env), cwd=home)
        scrub = {str(chart_arg): rel} | _tree_scrub(tree) | {str(tmp): "<tmp>"}
        if run.timed_out:
            raise RenderError(f"helm template of {rel} timed out after {TOOL_TIMEOUT:g} s", tool="helm")
        if run.returncode != 0:
            raise RenderError(_tool_failure(f"helm template of {rel} failed", run.stderr, scrub), tool="helm")
    objects = _parse_tool_output(run.stdout, f"helm template of {rel}", "helm")
    warnings += _tool_warnings(run.stderr, scrub)
    return RenderResult(objects=objects, source_type="Helm", warnings=warnings)


def _built_chart(
    tree: Path, app_dir: Path, chart: dict[str, Any], shown: str, build: Path, helm_repos: HelmRepos
) -> Path:
    """A writable copy of the chart (and of its file:// dependencies, at the same relative places)
    with `helm dependency build` run in it; the exported tree itself stays read-only and shared."""
    from console.engine.sources import helmrepo
    from console.engine.sources.git import RepoError

    root = tree.resolve()
    dirs = [app_dir.resolve()]
    for dep in chart.get("dependencies") or []:
        repo = dep.get("repository") if isinstance(dep, dict) else None
        if isinstance(repo, str) and repo.startswith("file://"):
            dirs.append((app_dir / repo[len("file://") :]).resolve())  # confined by check_chart_dependencies
    for d in dirs:
        if d.is_dir() and (d == root or d.is_relative_to(root)):
            dest = build / d.relative_to(root)
            shutil.copytree(d, dest, symlinks=True, dirs_exist_ok=True)
            for path in [dest, *dest.rglob("*")]:
                if path.is_dir() and not path.is_symlink():
                    os.chmod(path, 0o755)
                elif path.is_file() and not path.is_symlink():
                    os.chmod(path, 0o644)
    target = build / app_dir.resolve().relative_to(root)
    try:
        helmrepo.dependency_build(helm_repos, target, chart, shown)
    except RepoError as exc:
        raise RenderError(str(exc).replace(str(build), "."), tool="helm") from None
    return target
