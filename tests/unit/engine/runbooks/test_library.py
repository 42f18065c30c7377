"""Runbook files: the shipped ones load, a team's own are found in the workspace, and every mistake
is one sentence naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.engine.runbooks import library
from console.engine.runbooks.checks.catalog import checks
from console.engine.runbooks.library import RunbookError, parse
from console.engine.workspace import load
from tests.helpers import make_workspace

GOOD = """\
apiVersion: trueup.dev/v1alpha1
kind: Runbook
metadata:
  name: db-failover
  aliases: [failover]
spec:
  title: Database failover
  priority: 95
  appliesWhen:
    - check: app-out-of-sync
  steps:
    - id: ahead
      question: Is Git ahead?
      check: git-ahead
      branches:
        - when: yes
          decision: Sync it.
          action: sync
          conclusive: true
        - when: [no, unknown]
          decision: Look further.
    - id: ask
      question: Did the DBA approve?
      branches:
        - when: manual
          decision: Ask them.
          action: escalate
          escalateTo: "#dba"
"""


def test_the_shipped_runbooks_load_without_errors() -> None:
    lib = library.load(None)
    assert lib.errors == []
    assert {
        "out-of-sync",
        "degraded-but-synced",
        "immutable-field",
        "bad-commit-autosynced",
        "operation-stuck",
        "emergency-change-during-freeze",
    } <= set(lib.runbooks)
    # every seed §24 checklist item is a step with a question
    oos = lib.get("out-of-sync").runbook
    assert [s.question for s in oos.spec.steps][:2] == [
        "Is Git ahead of the live cluster?",
        "Was sync expected to be automated?",
    ]
    assert lib.get("bad-commit").name == "bad-commit-autosynced"  # alias


def test_yes_and_no_are_words_not_booleans() -> None:
    rb = parse(GOOD.encode(), "runbooks/db.yaml")
    assert rb.spec.steps[0].branches[0].when == ["yes"]
    assert rb.spec.steps[0].branches[1].when == ["no", "unknown"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("check: git-ahead", "check: git-ahed"),
            "spec.steps[0].check: unknown check 'git-ahed' (did you mean 'git-ahead'?)",
        ),
        (("action: sync", "action: deploy"), "spec.steps[0].branches[0].action:"),
        (
            ("        - when: yes", "        - when: maybe"),
            "spec.steps[0].branches[0].when: check 'git-ahead' answers yes, no, unknown, not 'maybe'",
        ),
        (
            ("  title: Database failover", "  titel: Database failover"),
            'spec.titel: unknown field (did you mean "title"?)',
        ),
        (("  name: db-failover", "  name: DB_Failover"), "metadata.name: "),
        (("    - id: ask", "    - id: ahead"), "spec.steps[1].id: duplicate step id 'ahead'"),
        (
            ("        - when: manual", "        - when: yes"),
            "spec.steps[1].branches[0].when: a step without a check answers only manual",
        ),
        (
            ("    - check: app-out-of-sync", "    - check: app-out-of-sync\n      outcome: blocked"),
            "spec.appliesWhen[0].outcome:",
        ),
        (("  priority: 95", "  priority: lots"), "spec.priority: must be an integer"),
    ],
)
def test_a_mistake_names_the_file_and_the_field(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(RunbookError) as err:
        parse(GOOD.replace(old, new, 1).encode(), "runbooks/db.yaml")
    assert str(err.value).startswith("runbooks/db.yaml: ")
    assert message in str(err.value)


def test_check_params_are_validated_by_the_check() -> None:
    text = GOOD.replace(
        "      check: git-ahead\n", "      check: operation-running\n      params: {minMinutez: 3}\n", 1
    )
    text = text.replace("        - when: [no, unknown]", "        - when: [no]")
    with pytest.raises(RunbookError, match=r"runbooks/db.yaml: spec.steps\[0\].params.minMinutez"):
        parse(text.encode(), "runbooks/db.yaml")


def test_a_yaml_bomb_or_a_non_mapping_is_refused() -> None:
    with pytest.raises(RunbookError, match="runbooks/x.yaml"):
        parse(b"- a\n- b\n", "runbooks/x.yaml")
    bomb = b"a: &a [x,x,x,x,x,x,x,x]\n" + b"".join(
        b"%c: &%c [*%c,*%c,*%c,*%c]\n" % ((97 + i,) * 6) for i in range(1, 12)
    )
    with pytest.raises(RunbookError):
        parse(bomb, "runbooks/bomb.yaml")


def test_workspace_runbooks_are_found_override_builtins_and_bad_ones_are_skipped(tmp_path: Path) -> None:
    make_workspace(tmp_path, {"a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    ws = load(tmp_path)
    d = tmp_path / "runbooks"
    d.mkdir()
    (d / "db.yaml").write_text(GOOD)
    (d / "broken.yaml").write_text(
        GOOD.replace("db-failover", "broken").replace("check: git-ahead", "check: nope")
    )
    custom = GOOD.replace("name: db-failover", "name: out-of-sync").replace(
        "aliases: [failover]", "aliases: []"
    )
    (d / "oos.yml").write_text(custom.replace("Database failover", "Our OutOfSync"))
    lib = library.load(ws)
    assert lib.get("failover").file == "runbooks/db.yaml"
    assert lib.get("out-of-sync").runbook.spec.title == "Our OutOfSync"
    assert lib.get("out-of-sync").origin == "workspace"
    assert any(
        e.startswith("runbooks/broken.yaml: spec.steps[0].check: unknown check 'nope'") for e in lib.errors
    )
    with pytest.raises(RunbookError, match="runbooks/broken.yaml"):
        lib.get("broken")
    with pytest.raises(RunbookError, match="did you mean 'db-failover'"):
        lib.get("db-failovr")
    assert lib.ordered()[0].name == "db-failover"  # priority 95 first


def test_settings_runbooks_dir_moves_the_directory(tmp_path: Path) -> None:
    make_workspace(
        tmp_path,
        {"a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
        settings={"runbooksDir": "ops/runbooks"},
    )
    (tmp_path / "ops" / "runbooks").mkdir(parents=True)
    (tmp_path / "ops" / "runbooks" / "db.yaml").write_text(GOOD)
    lib = library.load(load(tmp_path))
    assert lib.get("db-failover").file == "ops/runbooks/db.yaml"


def test_every_builtin_step_check_is_registered_and_documented() -> None:
    registry = checks()
    docs = (Path(__file__).resolve().parents[4] / "docs" / "runbooks.md").read_text()
    for name, cd in registry.items():
        assert cd.description
        assert f"`{name}`" in docs, f"check {name} is not documented in docs/runbooks.md"
