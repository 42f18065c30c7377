"""Where runbooks come from: the ones shipped in `builtin/`, plus a team's own in the workspace
(`runbooks/`, or `settings.runbooksDir`), in the same format. A team runbook with a builtin's name
replaces it. Every file is read with the engine's safe loader and validated against the schema
and the check registry; a broken file is reported (file and field) and skipped, so one bad
runbook never hides the others.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from console.engine import yamlsafe
from console.engine.model.errors import spec_error
from console.engine.runbooks.checks.base import UNKNOWN, CheckDef
from console.engine.runbooks.checks.catalog import checks
from console.engine.runbooks.schema import Runbook
from console.engine.workspace import Workspace

BUILTIN = "builtin"
MAX_FILE = 256 * 1024
MANUAL = "manual"


class RunbookError(Exception):
    """An invalid runbook file or an unknown runbook name; the message names file and field."""


@dataclass(frozen=True)
class Loaded:
    runbook: Runbook
    origin: str  # "builtin" or "workspace"
    file: str  # shown path: builtin/<name>.yaml or relative to the workspace

    @property
    def name(self) -> str:
        return self.runbook.name


@dataclass
class Library:
    runbooks: dict[str, Loaded] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def get(self, name: str) -> Loaded:
        if name in self.runbooks:
            return self.runbooks[name]
        if name in self.aliases:
            return self.runbooks[self.aliases[name]]
        for err in self.errors:
            if f"/{name}.yaml" in err or err.startswith(f"{name}.yaml"):
                raise RunbookError(err)
        known = sorted([*self.runbooks, *self.aliases])
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RunbookError(f"unknown runbook {name!r}{hint}; see `trueup runbook list`")

    def ordered(self) -> list[Loaded]:
        return sorted(self.runbooks.values(), key=lambda r: (-r.runbook.spec.priority, r.name))


def workspace_dir(ws: Workspace) -> Path:
    rel = ws.settings.runbooks_dir or "runbooks"
    path = Path(rel).expanduser()
    return path if path.is_absolute() else ws.root / path


def _shown(ws: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(options))})"


def _check_ref(
    where: str, name: str, params: dict[str, Any], registry: dict[str, CheckDef]
) -> tuple[CheckDef | None, str | None]:
    if not name:
        return None, None
    cd = registry.get(name)
    if cd is None:
        return None, f"{where}.check: unknown check {name!r}{_suggest(name, list(registry))}"
    try:
        cd.params.model_validate(params)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        return cd, f"{where}.params{('.' + loc) if loc else ''}: {err['msg']}"
    return cd, None


def validate(rb: Runbook, registry: dict[str, CheckDef]) -> str | None:
    """The first problem that schema types cannot express: unknown checks, outcomes, duplicate ids."""
    for i, cond in enumerate(rb.spec.applies_when):
        where = f"spec.appliesWhen[{i}]"
        cd, problem = _check_ref(where, cond.check, cond.params, registry)
        if problem:
            return problem
        assert cd is not None
        for outcome in cond.outcome:
            if outcome not in (*cd.outcomes, UNKNOWN):
                return f"{where}.outcome: check {cd.name!r} answers {', '.join(cd.outcomes)}, not {outcome!r}"
    seen: set[str] = set()
    for i, step in enumerate(rb.spec.steps):
        where = f"spec.steps[{i}]"
        if step.id in seen:
            return f"{where}.id: duplicate step id {step.id!r}"
        seen.add(step.id)
        cd, problem = _check_ref(where, step.check, step.params, registry)
        if problem:
            return problem
        allowed = (*cd.outcomes, UNKNOWN) if cd else (MANUAL,)
        for j, branch in enumerate(step.branches):
            for outcome in branch.when:
                if outcome not in allowed:
                    what = f"check {cd.name!r} answers" if cd else "a step without a check answers only"
                    return f"{where}.branches[{j}].when: {what} {', '.join(allowed)}, not {outcome!r}"
    return None


def parse(data: bytes, shown: str, registry: dict[str, CheckDef] | None = None) -> Runbook:
    """One runbook file, or RunbookError naming `shown` and the field at fault."""
    registry = registry if registry is not None else checks()
    try:
        doc = yamlsafe.load_one(data, shown, max_bytes=MAX_FILE)
    except yamlsafe.ManifestError as exc:
        raise RunbookError(str(exc)) from None
    if not isinstance(doc, dict):
        raise RunbookError(f"{shown}: a runbook is a mapping with apiVersion, kind: Runbook, metadata, spec")
    try:
        rb = Runbook.model_validate(doc)
    except ValidationError as exc:
        err = spec_error("Runbook", doc, exc, Runbook)
        raise RunbookError(f"{shown}: {err.field}: {err.message}") from None
    problem = validate(rb, registry)
    if problem:
        raise RunbookError(f"{shown}: {problem}")
    return rb


def _files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    except OSError:
        return []


def load(ws: Workspace | None) -> Library:
    lib = Library()
    registry = checks()
    sources: list[tuple[str, str, bytes]] = []
    base = resources.files("console.engine.runbooks") / BUILTIN
    for entry in sorted(base.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            sources.append(("builtin", f"{BUILTIN}/{entry.name}", entry.read_bytes()))
    if ws is not None:
        for path in _files(workspace_dir(ws)):
            shown = _shown(ws, path)
            try:
                if path.stat().st_size > MAX_FILE:
                    lib.errors.append(f"{shown}: larger than {MAX_FILE // 1024} KiB")
                    continue
                sources.append(("workspace", shown, path.read_bytes()))
            except OSError as exc:
                lib.errors.append(f"{shown}: cannot read it ({exc.strerror})")
    for origin, shown, data in sources:
        try:
            rb = parse(data, shown, registry)
        except RunbookError as exc:
            lib.errors.append(str(exc))
            continue
        previous = lib.runbooks.get(rb.name)
        if previous is not None and previous.origin == origin:
            lib.errors.append(f"{shown}: metadata.name: {rb.name!r} is already defined in {previous.file}")
            continue
        lib.runbooks[rb.name] = Loaded(rb, origin, shown)
    for loaded in lib.ordered():
        for alias in loaded.runbook.metadata.aliases:
            if alias in lib.runbooks or (alias in lib.aliases and lib.aliases[alias] != loaded.name):
                lib.errors.append(
                    f"{loaded.file}: metadata.aliases: {alias!r} is already a runbook name or alias"
                )
                continue
            lib.aliases[alias] = loaded.name
    return lib
