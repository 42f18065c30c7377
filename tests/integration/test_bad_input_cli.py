"""Every bad input of the CLI's own surface (issue 7 items 4, 11, 13, 16) through the real `trueup`:
one line on stderr (argparse's usage errors: the failing subcommand's usage, then one line), the
documented exit code, no traceback. Same pattern as test_bad_input_sources.py / _engine.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.helpers import OSC52, assert_one_line_error


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("places")
    (root / "a-file").write_text("not a directory\n")
    (root / "not-empty").mkdir()
    (root / "not-empty" / "notes.txt").write_text("mine\n")
    return {
        "FILE": root / "a-file",
        "UNDER_FILE": root / "a-file" / "demo",
        "UNWRITABLE": Path("/proc/trueup-demo"),  # refused even for root
        "NOT_EMPTY": root / "not-empty",
        "NEW": root / "new-demo",
        "NO_WS": root / "no-workspace",
    }


# (id, argv with placeholders, exit code, text the error line must contain, usage of which subcommand)
CASES: list[tuple[str, list[str], int, str, str | None]] = [
    # item 11: demo init
    ("demo-init-on-a-file", ["demo", "init", "FILE"], 2, "is a file, not a directory", None),
    ("demo-init-under-a-file", ["demo", "init", "UNDER_FILE"], 2, "cannot create the demo workspace", None),
    ("demo-init-unwritable", ["demo", "init", "UNWRITABLE"], 2, "choose a directory you can write to", None),
    ("demo-init-not-empty", ["demo", "init", "NOT_EMPTY"], 2, "exists and is not empty", None),
    ("demo-init-existing", ["demo", "init", "DEMO"], 2, "pass --force to recreate it", None),
    ("demo-init-no-dir", ["demo", "init"], 2, "takes one directory", "trueup demo"),
    ("demo-init-two-dirs", ["demo", "init", "NEW", "NEW"], 2, "takes one directory", "trueup demo"),
    ("demo-force-without-init", ["demo", "--force", "NEW"], 2, "applies to `demo init DIR`", "trueup demo"),
    # item 11: the parser as a new user meets it
    (
        "misspelled-flag",
        ["app", "list", "--helth", "Degraded"],
        2,
        "did you mean --health?",
        "trueup app list",
    ),
    (
        "misspelled-sync-flag",
        ["app", "sync", "x", "--dryrun"],
        2,
        "did you mean --dry-run?",
        "trueup app sync",
    ),
    (
        "abbreviated-flag",
        ["app", "sync", "x", "--prun"],
        2,
        "unrecognized arguments: --prun",
        "trueup app sync",
    ),
    ("flag-of-another-command", ["refresh", "--prune"], 2, "unrecognized arguments", "trueup refresh"),
    (
        "unknown-health",
        ["app", "list", "--health", "Broken"],
        2,
        "Healthy, Progressing, Degraded",
        "trueup app list",
    ),
    ("unknown-sync", ["app", "list", "--sync", "X"], 2, "Synced, OutOfSync, Unknown", "trueup app list"),
    ("unknown-project", ["app", "list", "-p", "nosuchproject"], 2, "project 'nosuchproject' not found", None),
    (
        "unknown-projects",
        ["app", "list", "-p", "payments", "-p", "a", "-p", "b"],
        2,
        "projects 'a', 'b' not found",
        None,
    ),
    ("unknown-output", ["app", "get", "x", "-o", "xml"], 2, "invalid choice: 'xml'", "trueup app get"),
    ("unknown-command", ["frob"], 2, "invalid choice: 'frob'", "trueup"),
    ("unknown-subcommand", ["app", "gte", "x"], 2, "invalid choice: 'gte'", "trueup app"),
    ("missing-subcommand", ["app"], 2, "required: SUBCOMMAND", "trueup app"),
    ("missing-app", ["app", "get"], 2, "required: APP", "trueup app get"),
    ("unknown-app", ["app", "get", "nope"], 2, "application 'nope' not found", None),
    (
        "negative-timeout",
        ["app", "wait", "x", "--timeout", "-1"],
        2,
        "positive number of seconds",
        "trueup app wait",
    ),
    (
        "nan-timeout",
        ["app", "sync", "x", "--timeout", "nan"],
        2,
        "positive number of seconds",
        "trueup app sync",
    ),
    (
        "zero-resync",
        ["controller", "run", "--resync", "0"],
        2,
        "positive number of seconds",
        "trueup controller run",
    ),
    ("no-workspace", ["-w", "NO_WS", "app", "list"], 2, "is not a trueup workspace", None),
    ("no-workspace-late-flag", ["app", "list", "-w", "NO_WS"], 2, "is not a trueup workspace", None),
    ("delete-unconfirmed", ["app", "delete", "payments-api-prod-us"], 2, "pass --yes", None),
    # item 13: rollback
    (
        "rollback-unknown-id",
        ["app", "rollback", "payments-api-prod-us", "7"],
        2,
        "see `trueup app history payments-api-prod-us`",
        None,
    ),
    ("rollback-not-a-number", ["app", "rollback", "a", "abc"], 2, "not a history id", "trueup app rollback"),
    (
        "rollback-negative",
        ["app", "rollback", "a", "-1"],
        2,
        "history ids are 0 or more",
        "trueup app rollback",
    ),
    # item 16: app get --refresh
    (
        "refresh-and-hard",
        ["app", "get", "a", "--refresh", "--hard-refresh"],
        2,
        "not allowed with",
        "trueup app get",
    ),
    (
        "refresh-unknown-app",
        ["app", "get", "nope", "--hard-refresh"],
        2,
        "application 'nope' not found",
        None,
    ),
    # item 4: a hostile argument is echoed escaped, in our errors and in argparse's
    ("hostile-app-name", ["app", "get", f"x{OSC52}"], 2, "x\\x1b]52;c;", None),
    ("hostile-flag-value", ["app", "list", "--health", OSC52], 2, "'\\x1b]52;c;", "trueup app list"),
]


@pytest.mark.parametrize(
    ("argv", "code", "needle", "usage"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_line_with_its_exit_code(
    demo_workspace: Path, places: dict[str, Path], argv: list[str], code: int, needle: str, usage: str | None
) -> None:
    where = {**{k: str(v) for k, v in places.items()}, "DEMO": str(demo_workspace)}
    args = [where.get(a, a) for a in argv]
    r = run_cli(*args, cwd=demo_workspace)
    line = assert_one_line_error(r, code, usage=usage)
    assert needle in line, line


def test_failed_demo_init_leaves_nothing_behind(places: dict[str, Path]) -> None:
    target = places["NOT_EMPTY"]
    before = sorted(p.name for p in target.iterdir())
    assert_one_line_error(run_cli("demo", "init", str(target)), 2)
    assert sorted(p.name for p in target.iterdir()) == before  # nothing of the user's lost or added
    assert not places["UNDER_FILE"].exists() and places["FILE"].read_text() == "not a directory\n"


def test_demo_init_force_before_the_directory(tmp_path: Path) -> None:
    """`demo init --force DIR` parses (it did not) and replaces an existing demo workspace."""
    target = tmp_path / "demo"
    assert run_cli("demo", "init", str(target)).returncode == 0
    (target / "marker").write_text("old\n")
    r = run_cli("demo", "init", "--force", str(target))
    assert r.returncode == 0, r.stderr
    assert (target / "trueup.yaml").exists() and not (target / "marker").exists()
