"""`settings.resourceCustomizationsDir`: health checks laid out as Argo CD's `resource_customizations/`.

`<group>/<kind>/health.lua` (a core kind: `<Kind>/health.lua`), with `_` standing for `*` in
directory names (`_.crossplane.io/_/health.lua` serves every kind of every crossplane.io group),
next to `health_test.yaml` files in Argo's format (`tests: [{inputPath, healthStatus}]`). Scripts
from the directory rank as Argo's built-in scripts do: after the checks configured in
`resourceCustomizations`, before the Go checks, with the standard libraries open.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.engine import yamlsafe

MAX_SCRIPT_BYTES = 1024 * 1024


class CustomizationsError(ValueError):
    """The directory cannot be used; the message names the file relative to it."""


def _key(rel: Path) -> str:
    parts = [p.replace("_", "*") for p in rel.parts]
    if len(parts) == 1:
        return f"/{parts[0]}"  # core kind
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    raise CustomizationsError(
        f"{rel.as_posix()}/health.lua: expected <group>/<kind>/health.lua or <Kind>/health.lua"
    )


def load_dir(root: Path) -> dict[str, str]:
    """{"group/kind" (wildcards as *): Lua source} for every health.lua under `root`."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise CustomizationsError(f"resourceCustomizationsDir {root} is not a directory")
    scripts: dict[str, str] = {}
    for path in sorted(root.rglob("health.lua")):
        rel = path.parent.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or "testdata" in rel.parts:
            continue
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise CustomizationsError(
                f"{path.relative_to(root).as_posix()}: larger than {MAX_SCRIPT_BYTES} bytes"
            )
        scripts[_key(rel)] = path.read_text(encoding="utf-8", errors="replace")
    return scripts


@dataclass(frozen=True)
class HealthTestCase:
    name: str  # <dir>/<inputPath>, as Argo names its subtests
    obj: dict[str, Any]
    status: str
    message: str


def load_tests(root: Path) -> list[HealthTestCase]:
    """Every case of every health_test.yaml next to a health.lua under `root`, sorted by name."""
    root = Path(root).expanduser()
    cases: list[HealthTestCase] = []
    for script in sorted(root.rglob("health.lua")):
        folder = script.parent
        test_file = folder / "health_test.yaml"
        rel = folder.relative_to(root).as_posix()
        if not test_file.is_file():
            raise CustomizationsError(f"{rel}/health_test.yaml: missing (every health.lua needs its tests)")
        doc = yamlsafe.load_one(test_file.read_bytes(), f"{rel}/health_test.yaml")
        for i, test in enumerate((doc or {}).get("tests") or []):
            where = f"{rel}/health_test.yaml: tests[{i}]"
            if not isinstance(test, dict) or not isinstance(test.get("inputPath"), str):
                raise CustomizationsError(f"{where}: needs inputPath")
            expected = test.get("healthStatus") or {}
            obj = yamlsafe.load_one((folder / test["inputPath"]).read_bytes(), f"{rel}/{test['inputPath']}")
            cases.append(
                HealthTestCase(
                    name=f"{rel}/{test['inputPath']}",
                    obj=obj,
                    status=str(expected.get("status", "")),
                    message=str(expected.get("message", "")),
                )
            )
    return sorted(cases, key=lambda c: c.name)
