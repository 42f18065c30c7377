"""Terminal escape injection (issue 7 item 4): control characters from a repository or a cluster
never reach the terminal raw from any CLI text output; `-o json` / `-o yaml` keep the exact value.

A real Git repository carries a Role whose name holds OSC 52 (write the clipboard), CSI, BEL, C1
and bidi characters (RBAC names are path segments, so the API server accepts them), a ConfigMap
whose annotations carry them (and whose health message, through a Lua check, repeats one), a
manifest *file name* with ESC/bidi/tab that fails to parse (the error names the file), and a commit
subject with OSC 52. Every command of the CLI runs against it as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.engine import yamlsafe
from tests.conftest import run_cli
from tests.helpers import (
    BIDI,
    NOTE,
    OSC52,
    ROLE_NAME,
    make_hostile_workspace,
)
from widgets.safe_text import is_unsafe


def _raw_controls(text: str, *, multiline: bool) -> list[str]:
    return sorted({repr(ch) for ch in text if is_unsafe(ch, keep_newlines=multiline)})


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_hostile_workspace(tmp_path_factory.mktemp("hostile"))


def _cli(ws: Path, *args: str) -> Any:
    r = run_cli("-w", str(ws), *args)
    assert "Traceback" not in r.stderr, r.stderr
    return r


TEXT_COMMANDS: list[tuple[tuple[str, ...], set[int]]] = [
    (("refresh",), {0}),
    (("app", "list"), {0}),
    (("app", "list", "-o", "wide"), {0}),
    (("app", "get", "hostile"), {0}),
    (("app", "get", "hostile", "-o", "tree"), {0}),
    (("app", "get", "broken"), {0}),
    (("app", "diff", "hostile"), {1}),
    (("app", "diff", "broken"), {2}),
    (("app", "manifests", "hostile"), {0}),
    (("app", "manifests", "broken"), {2}),
    (("app", "sync", "hostile"), {0}),
    (("app", "get", "hostile"), {0}),
    (("app", "get", "hostile", "--hard-refresh"), {0}),
    (("app", "manifests", "hostile", "--source", "live"), {0}),
    (("app", "history", "hostile"), {0}),
    (("app", "sync", "broken"), {1, 2}),
    (("project", "list"), {0}),
    (("app", "get", ROLE_NAME), {2}),  # the hostile string as an argument: echoed in the error
    (("app", "list", "--health", OSC52), {2}),  # ... and in argparse's usage error
]


def test_no_raw_control_character_reaches_the_terminal(hostile_ws: Path) -> None:
    seen_visible = set()
    for args, codes in TEXT_COMMANDS:
        r = _cli(hostile_ws, *args)
        assert r.returncode in codes, (args, r.returncode, r.stderr)
        for stream, text in (("stdout", r.stdout), ("stderr", r.stderr)):
            assert _raw_controls(text, multiline=True) == [], (args, stream, text)
        seen_visible.update(s for s in ("\\x1b]52", "\\u202e", "\\x9b", "\\x07") if s in r.stdout + r.stderr)
    # the hostile values were shown (made visible), not dropped
    assert seen_visible == {"\\x1b]52", "\\u202e", "\\x9b", "\\x07"}


def test_hostile_values_are_shown_escaped_in_place(hostile_ws: Path) -> None:
    _cli(hostile_ws, "refresh")
    get = _cli(hostile_ws, "app", "get", "hostile")
    assert "reader\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\x1b[2J" in get.stdout  # the Role row
    assert "\\u202egpj.exe" in get.stdout
    # one table row per resource: an escaped newline/tab/CR never breaks the layout
    lines = get.stdout.splitlines()
    rows = lines[next(i for i, line in enumerate(lines) if line.startswith("GROUP")) + 1 :]
    kinds = sorted(r.split()[1] if r.startswith("rbac") else r.split()[0] for r in rows)
    assert kinds == ["ConfigMap", "Role"], get.stdout
    broken = _cli(hostile_ws, "app", "get", "broken")
    cond = [line for line in broken.stdout.splitlines() if line.startswith("Condition:")]
    assert len(cond) == 1 and "bad\\x1b[31m\\u202egpj.exe" in cond[0] and "name.yaml" in cond[0]
    diff = _cli(hostile_ws, "app", "diff", "broken")
    assert diff.returncode == 2 and len(diff.stderr.splitlines()) == 1
    assert "bad\\x1b[31m" in diff.stderr


def test_json_and_yaml_keep_the_exact_values(hostile_ws: Path) -> None:
    assert _cli(hostile_ws, "app", "sync", "hostile", "-o", "json").returncode == 0
    assert _cli(hostile_ws, "refresh", "-o", "json").returncode == 0
    r = _cli(hostile_ws, "app", "get", "hostile", "-o", "json")
    assert r.returncode == 0 and _raw_controls(r.stdout, multiline=True) == []
    app = json.loads(r.stdout)
    names = {x["name"] for x in app["status"]["resources"]}
    assert ROLE_NAME in names
    cm = next(x for x in app["status"]["resources"] if x["kind"] == "ConfigMap")
    assert cm["health"]["message"] == NOTE
    y = _cli(hostile_ws, "app", "get", "hostile", "-o", "yaml")
    assert y.returncode == 0 and _raw_controls(y.stdout, multiline=True) == []
    assert yamlsafe.load_one(y.stdout) == app
    man = _cli(hostile_ws, "app", "manifests", "hostile")
    assert _raw_controls(man.stdout, multiline=True) == []
    objs = yamlsafe.load_all(man.stdout)
    assert {o["metadata"]["name"] for o in objs} == {ROLE_NAME, "banner"}
    assert next(o for o in objs if o["kind"] == "ConfigMap")["data"]["motd"] == NOTE
    d = _cli(hostile_ws, "app", "list", "-o", "json")
    listed = {a["name"]: a for a in json.loads(d.stdout)}
    # the raw file name (the engine folds whitespace in condition messages; controls stay exact)
    assert f"broken/bad\x1b[31m{BIDI}" in " ".join(c["message"] for c in listed["broken"]["conditions"])
    ly = _cli(hostile_ws, "app", "list", "-o", "yaml")
    assert _raw_controls(ly.stdout, multiline=True) == []
    assert yamlsafe.load_one(ly.stdout) == json.loads(d.stdout)


def test_plain_yaml_stays_readable_unicode() -> None:
    """Only output that would carry an unsafe character is emitted ASCII-only."""
    from console.cli.output import yaml_text

    assert yaml_text({"msg": "café ✓"}) == "msg: café ✓\n"
    text = yaml_text({"msg": "café \u202e"})
    assert text.isascii() and yamlsafe.load_one(text) == {"msg": "café \u202e"}
