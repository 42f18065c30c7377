"""Git history for runbook evidence: commits between revisions on an app's paths, changed lines,
never a Secret's values, and the commit that introduced a line."""

from __future__ import annotations

from pathlib import Path

from console.engine.runbooks import gitlog
from console.engine.workspace import load
from tests.helpers import commit_files, make_workspace

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  LEVEL: info\n"
SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  PASSWORD: aHVudGVyMg==\n"


def test_range_paths_lines_and_secrets_stay_hidden(tmp_path: Path) -> None:
    _, url, work = make_workspace(
        tmp_path, {"app/cm.yaml": CM, "app/secret.yaml": SECRET, "other/x.yaml": CM}
    )
    ws = load(tmp_path)
    first = work.head.commit.hexsha
    other = commit_files(work, tmp_path / "work", {"other/x.yaml": CM.replace("info", "warn")}, "other app")
    change = commit_files(
        work,
        tmp_path / "work",
        {
            "app/cm.yaml": CM.replace("info", "debug"),
            "app/secret.yaml": SECRET.replace("aHVudGVyMg==", "bmV3cGFzcw=="),
        },
        "app: debug logging, rotate the password",
    )
    found = gitlog.log_range(ws, url, first, change, ["app"])
    assert [c.sha for c in found] == [change]  # the other app's commit is not on these paths
    assert found[0].subject == "app: debug logging, rotate the password"
    assert [c.sha for c in gitlog.log_range(ws, url, first, change, ["."])] == [change, other]
    lines = gitlog.changed_lines(ws, url, change, ["app"], limit=10)
    assert "app/cm.yaml: -LEVEL: info" in lines and "app/cm.yaml: +LEVEL: debug" in lines
    assert "app/secret.yaml: (a Secret manifest changed; its values are not shown)" in lines
    assert not any("aHVudGVyMg" in line or "bmV3cGFzcw" in line for line in lines)
    assert sorted(gitlog.changed_files(ws, url, change)) == ["app/cm.yaml", "app/secret.yaml"]
    intro = gitlog.pickaxe(ws, url, "main", "LEVEL: debug")
    assert intro is not None and intro.sha == change


def test_manifest_generate_paths_are_read_as_argo_does() -> None:
    app = {"metadata": {"annotations": {gitlog.MANIFEST_GENERATE_PATHS: ".;../shared;/charts/x;../../../.."}}}
    assert gitlog.app_paths(app, {"path": "apps/a"}) == ["apps/a", "apps/shared", "charts/x"]
    assert gitlog.app_paths({}, {"path": "apps/a"}) == ["apps/a"]
