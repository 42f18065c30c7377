"""Lua health overrides: precedence, Argo's result contract, and the sandbox holding under attack."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from console.engine.health.checker import HealthChecker
from console.engine.health.lua import LuaHealthError, LuaSandbox
from console.engine.health.status import DEGRADED, HEALTHY, PROGRESSING, SUSPENDED, UNKNOWN, HealthStatus

# The app-of-apps snippet from Argo CD's docs (operator-manual/health.md), verbatim.
APP_OF_APPS = """
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""

CONST = 'return {{status = "{status}", message = "{message}"}}'


def app(group: str = "trueup.dev", status: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiVersion": f"{group}/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "child", "namespace": "trueup"},
    }
    if status is not None:
        out["status"] = status
    return out


def deployment_paused() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "generation": 1},
        "spec": {"paused": True, "replicas": 1},
        "status": {"observedGeneration": 1},
    }


def cm() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}


def widget(group: str = "ec2.aws.crossplane.io", kind: str = "Instance") -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1",
        "kind": kind,
        "metadata": {"name": "w"},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "False", "message": "creating"},
                {"type": "Synced", "status": "True"},
            ]
        },
    }


@pytest.mark.parametrize(
    ("key", "o", "expected"),
    [
        (
            "argoproj.io/Application",
            app("trueup.dev", {"health": {"status": "Degraded", "message": "boom"}}),
            (DEGRADED, "boom"),
        ),
        ("trueup.dev/Application", app("trueup.dev", {"health": {"status": "Healthy"}}), (HEALTHY, "")),
        ("argoproj.io/Application", app("argoproj.io", {"health": {"status": "Suspended"}}), (SUSPENDED, "")),
        ("trueup.dev/Application", app("argoproj.io"), (PROGRESSING, "")),
    ],
    ids=["argo-key-trueup-object", "trueup-key", "argo-key-argo-object", "no-status-progressing"],
)
def test_app_of_apps_snippet(key: str, o: dict[str, Any], expected: tuple[str, str]) -> None:
    h = HealthChecker({key: APP_OF_APPS}).resource_health(o)
    assert h is not None and (h.status, h.message) == expected


def test_lua_override_takes_precedence_over_builtin() -> None:
    o = deployment_paused()
    assert HealthChecker().resource_health(o) == HealthStatus(SUSPENDED, "Deployment is paused")
    h = HealthChecker({"apps/Deployment": CONST.format(status="Degraded", message="custom")}).resource_health(
        o
    )
    assert h is not None and (h.status, h.message) == (DEGRADED, "custom")


def test_pending_deletion_precedes_lua() -> None:
    o = deployment_paused()
    o["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    h = HealthChecker({"apps/Deployment": CONST.format(status="Degraded", message="x")}).resource_health(o)
    assert h is not None and (h.status, h.message) == (PROGRESSING, "Pending deletion")


@pytest.mark.parametrize(
    ("checks", "o", "expected"),
    [
        ({"ConfigMap": CONST.format(status="Healthy", message="core short")}, cm(), (HEALTHY, "core short")),
        ({"/ConfigMap": CONST.format(status="Healthy", message="core slash")}, cm(), (HEALTHY, "core slash")),
        (
            {"*.crossplane.io/*": CONST.format(status="Degraded", message="wild")},
            widget(),
            (DEGRADED, "wild"),
        ),
        (
            {
                "*.crossplane.io/*": CONST.format(status="Degraded", message="wild"),
                "ec2.aws.crossplane.io/Instance": CONST.format(status="Healthy", message="exact"),
            },
            widget(),
            (HEALTHY, "exact"),
        ),
        (
            {
                "*.crossplane.io/*": CONST.format(status="Degraded", message="broad"),
                "ec2.aws.crossplane.io/*": CONST.format(status="Suspended", message="narrow"),
            },
            widget(),
            (SUSPENDED, "narrow"),
        ),
    ],
    ids=["core-kind", "core-slash", "wildcard", "exact-beats-wildcard", "specific-wildcard-first"],
)
def test_key_forms_and_wildcards(
    checks: dict[str, str], o: dict[str, Any], expected: tuple[str, str]
) -> None:
    h = HealthChecker(checks).resource_health(o)
    assert h is not None and (h.status, h.message) == expected


def test_wildcard_does_not_match_other_groups() -> None:
    assert (
        HealthChecker({"*.crossplane.io/*": CONST.format(status="Degraded", message="")}).resource_health(
            widget("example.com", "Thing")
        )
        is None
    )


def test_obj_is_converted_recursively_with_one_based_arrays() -> None:
    script = """
    local c = obj.status.conditions
    local first = c[1]
    hs = {status = "Healthy", message = first.type .. "/" .. c[2].type .. "/" .. #c .. "/" .. table.getn(c)}
    for i, cond in ipairs(c) do
      if cond.type == "Ready" and cond.status == "False" then
        hs.status = "Progressing"
      end
    end
    return hs
    """
    h = HealthChecker({"*.crossplane.io/*": script}).resource_health(widget())
    assert h is not None and (h.status, h.message) == (PROGRESSING, "Ready/Synced/2/2")


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('return {status = "Sideways"}', (UNKNOWN, "Lua returned an invalid health status")),
        ("return {}", ("", "")),  # Argo: {} encodes as [] -> empty status, not Unknown
        ("return {status = 7}", ("", "")),  # a JSON type error -> empty status, as util/lua
        ('return {message = "no status"}', (UNKNOWN, "Lua returned an invalid health status")),
        ('return {"Healthy"}', ("", "")),
        ('return {status = "Healthy", [1] = "x"}', (UNKNOWN, "cannot encode mixed or invalid key types")),
        ('return "Healthy"', (UNKNOWN, "expect table output from Lua script, not string")),
        ("return 1", (UNKNOWN, "expect table output from Lua script, not number")),
        (
            "return obj.spec.missing.field",
            (UNKNOWN, "<string>:1: attempt to index field 'missing' (a nil value)"),
        ),
        ('error("custom failure")', (UNKNOWN, "<string>:1: custom failure")),
        ("error({code = 1})", (UNKNOWN, "(error object is a table value)")),
        ("return {", (UNKNOWN, "<string>:1: unexpected symbol near '<eof>'")),
        ('return {status = "Degraded", message = 42}', ("", "")),
    ],
    ids=[
        "bad-status",
        "empty-table",
        "non-string-status",
        "no-status",
        "sequence",
        "mixed-keys",
        "string-return",
        "number-return",
        "runtime-error",
        "error-call",
        "error-table",
        "syntax-error",
        "numeric-message",
    ],
)
def test_lua_result_contract(script: str, expected: tuple[str, str]) -> None:
    o = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
    h = HealthChecker({"example.com/Widget": script}).resource_health(o)
    assert h is not None and (h.status, h.message) == expected


def test_nil_return_is_an_empty_status_without_builtin_fallback() -> None:
    """util/lua ExecuteHealthLua: LTNil -> &HealthStatus{}; gitops-engine uses it (non-nil), so the
    built-in Deployment check is not consulted once a script exists for the kind."""
    checker = HealthChecker({"apps/Deployment": "return nil", "/ConfigMap": "return nil"})
    h = checker.resource_health(deployment_paused())
    assert h is not None and (h.status, h.message) == ("", "")
    c = checker.resource_health(cm())
    assert c is not None and c.status == ""
    assert SUSPENDED  # the built-in verdict the script overrides


def test_empty_script_is_ignored() -> None:
    assert HealthChecker({"/ConfigMap": "   "}).resource_health(cm()) is None


SANDBOX_ESCAPES = {
    "os.execute": 'os.execute("touch {marker}")',
    "io.open": 'io.open("{marker}", "w"):write("x")',
    "io.popen": 'io.popen("touch {marker}")',
    "require": 'local o = require("os") o.execute("touch {marker}")',
    "loadstring": 'loadstring("os.execute(\\"touch {marker}\\")")()',
    "load": "load(function() return nil end)",
    "dofile": 'dofile("/etc/hostname")',
    "getfenv": 'getfenv(0).os.execute("touch {marker}")',
    "debug": "debug.getregistry()",
    "python": 'python.eval("open(\\"{marker}\\", \\"w\\")")',
    "_G": '_G.os.execute("touch {marker}")',
    "string-metatable": 'getmetatable("").__index.dump(print)',
    "coroutine": "coroutine.create(function() end)",
    "collectgarbage": 'collectgarbage("stop")',
    "bytecode": "\x1bLua garbage",
}


@pytest.mark.parametrize("name", sorted(SANDBOX_ESCAPES))
@pytest.mark.parametrize("open_libs", [False, True], ids=["closed", "open-libs"])
def test_sandbox_escapes_fail(name: str, open_libs: bool, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    script = SANDBOX_ESCAPES[name].format(marker=marker)
    libs = ["example.com/Widget"] if open_libs else []
    checker = HealthChecker({"example.com/Widget": script}, open_libs=libs)
    h = checker.resource_health({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert h is not None and h.status == UNKNOWN
    assert h.message  # the error text is shown, as Argo does
    assert not marker.exists()


@pytest.mark.parametrize(
    ("script", "closed", "opened"),
    [
        (
            'return {status = "Healthy", message = string.upper("ok")}',
            "attempt to index global 'string'",
            "OK",
        ),
        ('return {status = "Healthy", message = ("ok"):upper()}', "attempt to call method 'upper'", "OK"),
        (
            'return {status = "Healthy", message = tostring(math.floor(2.5))}',
            "attempt to index global 'math'",
            "2",
        ),
    ],
    ids=["string", "string-methods", "math"],
)
def test_open_libs_gate_string_and_math(script: str, closed: str, opened: str) -> None:
    o = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    shut = HealthChecker({"example.com/Widget": script}).resource_health(o)
    assert shut is not None and shut.status == UNKNOWN and closed in shut.message
    # string methods must not leak into a closed script after an open one ran in the same state
    checker = HealthChecker(
        {"example.com/Widget": script, "/ConfigMap": script}, open_libs=["example.com/Widget"]
    )
    h = checker.resource_health(o)
    assert h is not None and (h.status, h.message) == (HEALTHY, opened)
    again = checker.resource_health(cm())
    assert again is not None and again.status == UNKNOWN


def test_argo_always_on_libs_table_and_safe_os() -> None:
    script = """
    local t = {}
    table.insert(t, "a")
    table.insert(t, "b")
    local now = os.time()
    return {status = "Healthy", message = table.concat(t, ",") .. tostring(type(now) == "number")
        .. tostring(os.execute == nil) .. tostring(os.getenv == nil) .. tostring(os.remove == nil)}
    """
    h = HealthChecker({"/ConfigMap": script}).resource_health(cm())
    assert h is not None and (h.status, h.message) == (HEALTHY, "a,btruetruetruetrue")


def test_scripts_cannot_pollute_each_other() -> None:
    checker = HealthChecker(
        {
            "/ConfigMap": 'leaked = "yes"; table.insert = nil; return {status = "Healthy"}',
            "/Secret": 'return {status = "Healthy", message = tostring(leaked) .. tostring(table.insert ~= nil)}',
        }
    )
    checker.resource_health(cm())
    h = checker.resource_health({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    assert h is not None and (h.status, h.message) == (HEALTHY, "niltrue")


@pytest.mark.parametrize(
    "script",
    [
        "while true do end",
        "local function f() return f() end return f()",
        "while true do pcall(function() while true do end end) end",
        "while true do xpcall(function() while true do end end, function() while true do end end) end",
    ],
    ids=["while-true", "tail-recursion", "pcall-swallow", "xpcall-handler"],
)
def test_runaway_script_is_bounded(script: str) -> None:
    checker = HealthChecker(
        {"/ConfigMap": script, "/Secret": CONST.format(status="Healthy", message="after")},
        max_instructions=2_000_000,
    )
    start = time.monotonic()
    h = checker.resource_health(cm())
    assert time.monotonic() - start < 5
    assert h is not None and h.status == UNKNOWN
    assert h.message == "Lua health script timed out: it exceeded its budget of 2000000 instructions"
    # the same Lua state stays usable, with no hook or budget left behind
    after = checker.resource_health({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    assert after is not None and (after.status, after.message) == (HEALTHY, "after")


def test_memory_bomb_is_bounded_and_state_survives() -> None:
    sandbox = LuaSandbox(max_memory=16 * 1024 * 1024)
    bomb = "local t = {} local i = 0 while true do i = i + 1 t[i] = {i, i, i, i, i, i, i, i} end"
    with pytest.raises(LuaHealthError, match="exceeded its memory limit of 16 MiB"):
        sandbox.run(bomb, {"metadata": {}})
    for _ in range(3):  # the heap was reclaimed: ordinary scripts and object conversion still work
        assert sandbox.run(
            'return {status = "Healthy", message = obj.metadata.name}', {"metadata": {"name": "x"}}
        ) == (
            "object",
            "Healthy",
            "x",
        )


def test_string_rep_bomb_with_open_libs_is_bounded() -> None:
    sandbox = LuaSandbox(max_memory=16 * 1024 * 1024)
    with pytest.raises(LuaHealthError, match="memory limit"):
        sandbox.run('return {status = string.rep("x", 2^30)}', {}, open_libs=True)


def test_large_object_converts_even_near_the_memory_cap() -> None:
    sandbox = LuaSandbox(max_memory=1024 * 1024)
    big = {"data": {f"k{i}": "v" * 100 for i in range(20_000)}}  # ~2.5 MB as Lua tables
    with pytest.raises(LuaHealthError, match="memory limit"):
        sandbox.run(
            'local t = {} for k, v in pairs(obj.data) do t[#t + 1] = v .. k end return {status = "Healthy"}',
            big,
        )
    assert sandbox.run('return {status = "Healthy"}', {}) == ("object", "Healthy", None)


def test_scripts_compile_once() -> None:
    sandbox = LuaSandbox()
    script = 'return {status = "Healthy", message = obj.metadata.name}'
    for i in range(5):
        assert sandbox.run(script, {"metadata": {"name": f"n{i}"}}) == ("object", "Healthy", f"n{i}")
    assert len(sandbox._cache) == 1
    with pytest.raises(LuaHealthError):
        sandbox.run("return {", {})
    with pytest.raises(LuaHealthError):
        sandbox.run("return {", {})
    assert len(sandbox._cache) == 2


def test_shared_checker_is_thread_safe() -> None:
    checker = HealthChecker({"/ConfigMap": 'return {status = "Healthy", message = obj.metadata.name}'})
    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(200):
            name = f"t{n}-{i}"
            h = checker.resource_health({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
            if h is None or h.message != name:
                errors.append(f"{name}: {h}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
