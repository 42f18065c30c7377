"""What a sync would change, per resource, before anyone confirms it (Argo's `--preview-changes`).

A fresh comparison (nothing written) gives each resource's change: `create` (in Git, not live),
`update` (live differs; the changed field paths are counted, never their values, so a Secret's
data cannot leak into a modal or a screenshot), `prune` (live, no longer in Git) or `none`.
Prunes are listed apart: they only happen with prune on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.engine.refresh import compare_one
from console.engine.workspace import Workspace

CREATE, UPDATE, PRUNE, NONE = "create", "update", "prune", "none"


@dataclass(frozen=True)
class PreviewItem:
    group: str
    kind: str
    namespace: str
    name: str
    change: str
    fields: int = 0  # changed field paths (update)
    hook: bool = False
    wave: int = 0

    @property
    def title(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.group or 'core'}/{self.kind} {ns}{self.name}"

    @property
    def selector(self) -> str:
        """`GROUP:KIND:NS/NAME`, the `--resource` form of `trueup app sync`."""
        return f"{self.group}:{self.kind}:{self.namespace}/{self.name}"

    def ref(self) -> dict[str, str]:
        return {"group": self.group, "kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass
class SyncPreview:
    app: str
    revision: str = ""
    sync_status: str = ""
    items: list[PreviewItem] = field(default_factory=list)
    error: str = ""

    @property
    def changes(self) -> list[PreviewItem]:
        return [i for i in self.items if i.change in (CREATE, UPDATE)]

    @property
    def prunes(self) -> list[PreviewItem]:
        return [i for i in self.items if i.change == PRUNE]

    def counts(self) -> dict[str, int]:
        out = {CREATE: 0, UPDATE: 0, PRUNE: 0, NONE: 0}
        for i in self.items:
            out[i.change] += 1
        return out


def sync_preview(ws: Workspace, name: str, *, revision: str | None = None) -> SyncPreview:
    cmp = compare_one(ws, name, revision=revision)
    out = SyncPreview(name, cmp.revision, cmp.sync_status)
    errors = [c["message"] for c in cmp.conditions if str(c.get("type", "")).endswith("Error")]
    if errors:
        out.error = " ".join(str(errors[0]).split())[:300]
    for r in cmp.resources:
        if not r.listed or r.hook:
            continue
        k = r.key
        if r.requires_pruning:
            change, fields = PRUNE, 0
        elif r.live is None and r.target is not None:
            change, fields = CREATE, 0
        elif r.diff is not None and r.diff.modified:
            change, fields = UPDATE, max(1, len(r.diff.changed_paths))
        else:
            change, fields = NONE, 0
        out.items.append(
            PreviewItem(k.group, k.kind, k.namespace, k.name, change, fields, r.hook, r.sync_wave)
        )
    order = {PRUNE: 2, CREATE: 0, UPDATE: 0, NONE: 3}
    out.items.sort(key=lambda i: (order[i.change], i.wave, i.kind, i.namespace, i.name))
    return out
