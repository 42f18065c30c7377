"""Every path a kustomization names must stay inside its repository (CVE-2022-24348 class).

`kubectl kustomize --load-restrictor=LoadRestrictionsRootOnly` confines *files* to the directory of
the kustomization that loads them, but not *directories*: `resources: [../../..]` (also `bases`,
`components`, `generators`, `transformers`, `validators`) builds any directory of the host, other
repositories' trees included, and its error messages tell whether a host path exists. So before
kustomize runs, every kustomization reachable from the app directory is read and each path it
names is resolved the way kustomize does (joined and cleaned lexically against the real directory
of the kustomization, then symlinks followed); anything that leaves the repository is refused
with one message that is the same whether or not the outside path exists, naming repo-relative
paths only. File fields are checked too, so their errors never reach kustomize's own
(host-path-revealing) messages.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from console.engine import yamlsafe

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_KUSTOMIZATIONS = 2_000  # directories followed from one app; a real overlay tree has a handful
_DIR_FIELDS = ("resources", "bases", "components", "generators", "transformers", "validators")
_FILE_LIST_FIELDS = ("crds", "configurations", "patchesStrategicMerge")
_PATH_LIST_FIELDS = ("patches", "patchesJson6902", "replacements")  # lists of {path: ...}
_GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


class OutsideRepository(ValueError):
    """A path named by repository content leaves the repository (or cannot be used offline)."""


def _quote(text: str) -> str:
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def _inline(entry: str) -> bool:
    """Inline YAML (a patch or a generator config) rather than a path."""
    return "\n" in entry or ": " in entry or entry.lstrip().startswith(("{", "["))


def _looks_remote(entry: str) -> bool:
    if _SCHEME.match(entry) or entry.startswith(("git@", "git::", "ssh:")):
        return True
    first = entry.split("/", 1)[0]
    return "?ref=" in entry or "?version=" in entry or ("." in first and entry.count("/") >= 2)


class _Walk:
    def __init__(self, tree: Path) -> None:
        self.root = tree.resolve()

    def rel(self, path: Path) -> str:
        text = path.relative_to(self.root).as_posix()
        return "." if text in ("", ".") else text

    def resolve(self, kdir: Path, entry: str, where: str) -> Path:
        """Where kustomize would look for `entry` named in directory `kdir`; refuses escapes."""
        outside = OutsideRepository(f"{where} points outside the repository")
        if _SCHEME.match(entry) or entry.startswith(("git@", "git::")):
            raise OutsideRepository(
                f"{where} is a remote base: trueup renders offline, vendor it into the repository"
            )
        if entry.startswith("/"):
            raise outside
        lexical = posixpath.normpath(posixpath.join(kdir.relative_to(self.root).as_posix(), entry))
        if lexical == ".." or lexical.startswith("../"):
            raise outside
        real = (self.root / lexical).resolve()
        if not (real == self.root or real.is_relative_to(self.root)):
            raise outside  # through a symlink (the tree's own links are checked at export too)
        return real

    def file(self, kdir: Path, entry: Any, where: str) -> None:
        if isinstance(entry, str) and entry and not _inline(entry):
            self.resolve(kdir, entry, f"{where} {_quote(entry)}")

    def directory(self, kdir: Path, entry: str, where: str) -> Path | None:
        shown = f"{where} {_quote(entry)}"
        target = self.resolve(kdir, entry, shown)
        if target.exists():
            return target if target.is_dir() else None
        if _looks_remote(entry):
            raise OutsideRepository(
                f"{shown} is a remote base: trueup renders offline, vendor it into the repository"
            )
        raise OutsideRepository(f"{shown} does not exist in the repository")


def check_kustomizations(tree: Path, start: list[Path]) -> None:
    """Refuse (OutsideRepository) any path reachable from the kustomizations in `start` that leaves `tree`."""
    walk = _Walk(tree)
    todo = [p.resolve() for p in start]
    seen: set[Path] = set()
    while todo:
        kdir = todo.pop()
        if kdir in seen:
            continue
        seen.add(kdir)
        if len(seen) > MAX_KUSTOMIZATIONS:
            raise OutsideRepository(
                f"more than {MAX_KUSTOMIZATIONS} kustomization directories are referenced"
            )
        kfile = next((kdir / n for n in KUSTOMIZATION_NAMES if (kdir / n).is_file()), None)
        if kfile is None:
            continue  # kustomize reports the missing kustomization itself (repo-relative after scrub)
        shown = walk.rel(kfile)
        try:
            doc = yamlsafe.load_one(kfile.read_bytes(), shown)
        except yamlsafe.ManifestError as exc:
            raise OutsideRepository(str(exc)) from None
        if not isinstance(doc, dict):
            continue
        todo.extend(_check_doc(walk, kdir, shown, doc))


def _entries(doc: dict[str, Any], field: str) -> list[Any]:
    value = doc.get(field)
    return value if isinstance(value, list) else []


def _check_doc(walk: _Walk, kdir: Path, shown: str, doc: dict[str, Any]) -> list[Path]:
    """Check one kustomization's path fields; the directories it builds (to check in turn)."""
    dirs: list[Path] = []
    for field in _DIR_FIELDS:
        for entry in _entries(doc, field):
            if not isinstance(entry, str) or not entry:
                continue
            if _inline(entry):
                if field != "resources":
                    _check_plugin_configs(walk, kdir, entry, f"{shown}: inline {field} entry")
                continue
            where = f"{shown}: {field} entry"
            target = walk.directory(kdir, entry, where)
            if target is not None:
                dirs.append(target)
            elif field != "resources":  # a plugin config file: builtin plugins load files too
                _check_plugin_configs(walk, kdir, _plugin_config_text(walk, kdir, entry, where), where)
    for field in _FILE_LIST_FIELDS:
        for entry in _entries(doc, field):
            walk.file(kdir, entry, f"{shown}: {field} entry")
    for field in _PATH_LIST_FIELDS:
        for item in _entries(doc, field):
            if isinstance(item, dict):
                walk.file(kdir, item.get("path"), f"{shown}: {field} path")
    for field in _GENERATOR_FIELDS:
        for gen in _entries(doc, field):
            if isinstance(gen, dict):
                _check_generator(walk, kdir, gen, f"{shown}: {field}")
    openapi = doc.get("openapi")
    if isinstance(openapi, dict):
        walk.file(kdir, openapi.get("path"), f"{shown}: openapi path")
    for chart in _entries(doc, "helmCharts"):
        if isinstance(chart, dict):
            walk.file(kdir, chart.get("valuesFile"), f"{shown}: helmCharts valuesFile")
            for entry in chart.get("additionalValuesFiles") or []:
                walk.file(kdir, entry, f"{shown}: helmCharts additionalValuesFiles entry")
    globals_ = doc.get("helmGlobals")
    if isinstance(globals_, dict):
        for key in ("chartHome", "configHome"):
            walk.file(kdir, globals_.get(key), f"{shown}: helmGlobals {key}")
    return dirs


def _check_generator(walk: _Walk, kdir: Path, gen: dict[str, Any], where: str) -> None:
    for key in ("files", "envs"):
        values = gen.get(key)
        for entry in values if isinstance(values, list) else []:
            if isinstance(entry, str):
                walk.file(kdir, entry.split("=", 1)[-1], f"{where} {key} entry")
    walk.file(kdir, gen.get("env"), f"{where} env")


def _plugin_config_text(walk: _Walk, kdir: Path, entry: str, where: str) -> str:
    """The text of a plugin config file named by a kustomization (already confined)."""
    path = walk.resolve(kdir, entry, f"{where} {_quote(entry)}")
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data.decode("utf-8", "replace") if len(data) <= yamlsafe.MAX_BYTES else ""


def _check_plugin_configs(walk: _Walk, kdir: Path, text: str, where: str) -> None:
    """Builtin generator/transformer configs load files relative to the kustomization too."""
    if not text:
        return
    try:
        docs = yamlsafe.load_all(text, where)
    except yamlsafe.ManifestError:
        return  # kustomize reports malformed configs itself; nothing is read through them
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind")
        here = f"{where} ({kind})"
        if kind in ("PatchTransformer", "PatchJson6902Transformer"):
            walk.file(kdir, doc.get("path"), f"{here} path")
        elif kind == "PatchStrategicMergeTransformer":
            for entry in doc.get("paths") or []:
                walk.file(kdir, entry, f"{here} paths entry")
        elif kind == "ReplacementTransformer":
            for item in doc.get("replacements") or []:
                if isinstance(item, dict):
                    walk.file(kdir, item.get("path"), f"{here} replacements path")
        elif kind in ("ConfigMapGenerator", "SecretGenerator"):
            _check_generator(walk, kdir, doc, here)
        elif kind == "HelmChartInflationGenerator":
            for key in ("valuesFile", "chartHome"):
                walk.file(kdir, doc.get(key), f"{here} {key}")
            for entry in doc.get("additionalValuesFiles") or []:
                walk.file(kdir, entry, f"{here} additionalValuesFiles entry")


def check_chart_dependencies(tree: Path, chart_dir: Path, chart: dict[str, Any], shown: str) -> None:
    """`file://` chart dependencies must name a directory inside the repository."""
    walk = _Walk(tree)
    for dep in chart.get("dependencies") or []:
        if not isinstance(dep, dict):
            continue
        repo = dep.get("repository")
        if isinstance(repo, str) and repo.startswith("file://"):
            walk.resolve(
                chart_dir.resolve(),
                repo[len("file://") :],
                f"{shown}: dependency {_quote(str(dep.get('name', '')))} repository {_quote(repo)}",
            )
