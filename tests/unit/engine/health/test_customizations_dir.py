"""Argo CD's Lua checks unchanged, through settings.resourceCustomizationsDir (issue 13 item 5).

Every health_test.yaml under tests/data/resource_customizations runs through the directory loader
(console.engine.lua_customizations -> HealthChecker), as Argo's TestLuaHealthScript walks
resource_customizations/. The scripts use goto, string.* and empty returns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.engine.health.checker import HealthChecker
from console.engine.lua_customizations import CustomizationsError, load_dir, load_tests

ROOT = Path(__file__).resolve().parents[3] / "data" / "resource_customizations"
CASES = load_tests(ROOT)
CHECKER = HealthChecker(dir_checks=load_dir(ROOT))


def test_suite_is_not_empty() -> None:
    assert len(CASES) >= 11
    assert {c.name.split("/")[0] for c in CASES} == {"ConfigMap", "_.crossplane.io", "example.com"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_health_test_yaml_case(case) -> None:  # type: ignore[no-untyped-def]
    h = CHECKER.resource_health(case.obj)
    assert h is not None
    assert (h.status, h.message) == (case.status, case.message)


def test_keys_and_wildcards_from_directory_names() -> None:
    scripts = load_dir(ROOT)
    assert set(scripts) == {"example.com/Widget", "*.crossplane.io/*", "/ConfigMap"}


def test_wildcard_group_does_not_match_other_groups() -> None:
    other = {"apiVersion": "crossplane.io.evil.example/v1", "kind": "Bucket", "metadata": {"name": "x"}}
    assert CHECKER.resource_health(other) is None


def test_configured_check_outranks_the_directory() -> None:
    checker = HealthChecker(
        {"example.com/Widget": 'return {status = "Suspended"}'}, dir_checks=load_dir(ROOT)
    )
    h = checker.resource_health(
        CASES[0].obj
        if CASES[0].name.startswith("example")
        else next(c.obj for c in CASES if c.name.startswith("example"))
    )
    assert h is not None and h.status == "Suspended"


def test_directory_scripts_get_the_standard_libraries() -> None:
    # the same string.* script without open libs fails: configured scripts need useOpenLibs
    source = load_dir(ROOT)["/ConfigMap"]
    broken = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "b"},
        "data": {"state": "broken: x"},
    }
    closed = HealthChecker({"/ConfigMap": source}).resource_health(broken)
    assert closed is not None and closed.status == "Unknown"
    opened = HealthChecker({"/ConfigMap": source}, open_libs=["/ConfigMap"]).resource_health(broken)
    assert opened is not None and (opened.status, opened.message) == ("Degraded", "x")


def test_goto_compiles() -> None:
    h = HealthChecker(
        {
            "/Pod": "local i = 0 ::top:: i = i + 1 if i < 3 then goto top end return {status = 'Healthy', message = tostring(i)}"
        }
    ).resource_health({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert h is not None and (h.status, h.message) == ("Healthy", "3")


def test_missing_health_test_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "example.com" / "Thing").mkdir(parents=True)
    (tmp_path / "example.com" / "Thing" / "health.lua").write_text("return nil")
    with pytest.raises(CustomizationsError, match="example.com/Thing/health_test.yaml: missing"):
        load_tests(tmp_path)
