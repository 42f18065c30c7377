"""Sandboxed Lua for custom health checks, following Argo CD's contract (util/lua/lua.go).

A script sees one global, `obj` (the live object as nested Lua tables, JSON arrays as 1-based
sequences), and returns a table `{status=..., message=...}` or nil. Scripts written for Argo CD
run unchanged, so the interpreter is LuaJIT 2.1 through lupa: Lua 5.1 (gopher-lua's dialect:
`table.getn`, `unpack`) plus `goto`/labels, which gopher-lua also accepts (plain Lua 5.1 does not).
The JIT compiler is switched off: compiled traces would not run the instruction-count hook.

Why a sandbox and not plain `LuaRuntime().execute`: scripts come from workspace settings that
many people can edit, and they run inside the controller. Like Argo, every script gets the base
functions, `table` and a time-only `os`; `string` and `math` only when the key is listed in
`open_libs` (Argo's `useOpenLibs`). Unlike Argo's open libs, `io`, `os.execute`, `require`,
`load*`, `dofile`, `debug`, coroutines and the lupa `python` bridge are never reachable. Runaway
scripts are stopped by an instruction budget (a count hook installed by trusted code before the
script runs) and a memory cap, so `while true do end` yields Unknown instead of a hung controller.
Known limit, shared with Argo: the hook cannot interrupt one C call, so with open libs a
pathological pattern (`s:find("(.-)(.-)(.-)x")` on a long string) can still run for very long.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from lupa import luajit21 as lua51  # LuaJIT: Lua 5.1 + goto, as gopher-lua

DEFAULT_MAX_INSTRUCTIONS = 20_000_000  # ~0.1-0.3 s of Lua 5.1; real health scripts use < 10_000
DEFAULT_MAX_MEMORY = 64 * 1024 * 1024
_MIN_MEMORY = 1024 * 1024  # headroom for lupa's unprotected argument pushes
_HOOK_EVERY = 1000  # instructions between budget checks

TIMEOUT_MESSAGE = "Lua health script timed out: it exceeded its budget of {n} instructions"
MEMORY_MESSAGE = "Lua health script exceeded its memory limit of {mb} MiB"
INCORRECT_RETURN_TYPE = "expect {want} output from Lua script, not {got}"  # Argo's incorrectReturnType

# Trusted code, compiled once per runtime. It captures the dangerous primitives it needs as
# upvalues, then the globals they came from are deleted so no later chunk can reach them.
_RUNNER = r"""
local setfenv, pcall, error, pairs, type, tostring, next = setfenv, pcall, error, pairs, type, tostring, next
local select, unpack, loadstring, collectgarbage, rawget = select, unpack, loadstring, collectgarbage, rawget
local sethook = debug.sethook
if jit then jit.off(); jit.flush() end  -- interpreter only: the count hook must see every instruction
local getmetatable, setmetatable = getmetatable, setmetatable
local string, table, math, os = string, table, math, os

local string_mt = getmetatable("")
string_mt.__metatable = false  -- getmetatable("") no longer hands out the shared metatable

local exhausted = false
local timeout_message = "timeout"

local function copy(src, skip)
  local out = {}
  for k, v in pairs(src) do
    if not (skip and skip[k]) then out[k] = v end
  end
  return out
end

local function guard(ok, ...)
  -- A script must not swallow the budget error with its own pcall and keep looping.
  if exhausted then error(timeout_message, 0) end
  return ok, ...
end

local function xpcall_after(handler, ok, ...)
  if exhausted then error(timeout_message, 0) end
  if ok then return true, ... end
  local handled, result = pcall(handler, (...))
  if exhausted then error(timeout_message, 0) end
  if handled then return false, result end
  return false, "error in error handling"
end

local safe_os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime }
local base_names = {
  "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawget", "rawset", "select",
  "tonumber", "tostring", "type", "unpack", "getmetatable", "setmetatable", "_VERSION",
}
local base = {}
for _, name in pairs(base_names) do base[name] = _G[name] end
local empty_string_index = {}

local function make_env(open_libs)
  local env = copy(base)
  env.pcall = function(f, ...) return guard(pcall(f, ...)) end
  -- Lua disables hooks while an xpcall handler runs, so a looping handler would escape the
  -- budget: the handler runs after the stack unwound instead, under the hook like any code.
  env.xpcall = function(f, handler) return xpcall_after(handler, pcall(f)) end
  env.print = function() end
  env.table = copy(table)
  env.os = copy(safe_os)
  if open_libs then
    env.string = copy(string, { dump = true })
    env.math = copy(math)
    string_mt.__index = env.string
  else
    string_mt.__index = empty_string_index
  end
  env._G = env
  return env
end

local function compile(source)
  if type(source) ~= "string" then return nil, "health script must be a string" end
  if source:sub(1, 1) == "\27" then return nil, "binary Lua chunks are not allowed" end
  local fn, err = loadstring(source, "=<string>")
  return fn, err
end

local function run(fn, obj, open_libs, limit_ticks, message)
  exhausted = false
  timeout_message = message
  local env = make_env(open_libs)
  env.obj = obj
  setfenv(fn, env)
  local ticks = 0
  sethook(function()
    ticks = ticks + 1
    if ticks > limit_ticks then
      exhausted = true
      error(timeout_message, 0)
    end
  end, "", HOOK_EVERY)
  local ok, result = pcall(fn)  -- no allocation between pcall and sethook()
  sethook()
  string_mt.__index = string
  exhausted = false
  if not ok then
    local err = result
    local kind = type(err)
    if kind == "string" or kind == "number" then
      err = tostring(err)
    else
      err = "(error object is a " .. kind .. " value)"  -- never run a script's __tostring unbudgeted
    end
    collectgarbage("collect")
    return false, err
  end
  local kind = type(result)
  if kind ~= "table" then
    return true, kind
  end
  -- how gopher-json would encode the table: {} and sequences become JSON arrays, string keys an
  -- object, anything else cannot be encoded (next/rawget: no script metamethod runs unbudgeted)
  local strings, numbers, others = 0, 0, 0
  local k = next(result)
  while k ~= nil do
    local kt = type(k)
    if kt == "string" then strings = strings + 1
    elseif kt == "number" then numbers = numbers + 1
    else others = others + 1 end
    k = next(result, k)
  end
  local shape = "object"
  if others > 0 or (strings > 0 and numbers > 0) then shape = "mixed"
  elseif strings == 0 then shape = "array" end
  return true, kind, shape, rawget(result, "status"), rawget(result, "message")
end

local function reset()
  -- after an error outside the script's pcall: never leave the hook or the string index behind
  sethook()
  string_mt.__index = string
  exhausted = false
  collectgarbage("collect")
end

return compile, run, reset
"""

_REMOVED_GLOBALS = (
    "debug io os require module package load loadstring loadfile dofile getfenv setfenv "
    "collectgarbage newproxy gcinfo coroutine python print jit ffi"
).split()


class LuaHealthError(Exception):
    """The script failed; the message is what Argo would show as the Unknown health message."""


class LuaSandbox:
    """One Lua 5.1 state with compiled-script cache; safe to share between threads."""

    def __init__(
        self, *, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS, max_memory: int = DEFAULT_MAX_MEMORY
    ) -> None:
        self._max_instructions = max_instructions
        self._max_memory = max(max_memory, _MIN_MEMORY)
        self._runtime = lua51.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            max_memory=self._max_memory,
        )
        self._compile, self._run, self._reset = self._runtime.execute(
            _RUNNER.replace("HOOK_EVERY", str(_HOOK_EVERY))
        )
        globals_ = self._runtime.globals()
        for name in _REMOVED_GLOBALS:
            globals_[name] = None
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _compiled(self, source: str) -> Any:
        """Compile once per distinct source; a syntax error is cached as the error text."""
        with self._lock:
            if source not in self._cache:
                with self._unlimited():
                    fn, err = self._compile(source)
                self._cache[source] = fn if fn is not None else LuaHealthError(str(err))
            compiled = self._cache[source]
        if isinstance(compiled, LuaHealthError):
            raise compiled
        return compiled

    @contextlib.contextmanager
    def _unlimited(self) -> Iterator[None]:
        """Trusted work (compiling, converting `obj`, collecting garbage) runs without the cap.

        lupa's table_from is not a protected call: hitting the cap there aborts the process, so
        the cap is only in force while the script itself runs, where errors are caught.
        """
        self._runtime.set_max_memory(0)
        try:
            yield
        finally:
            self._runtime.set_max_memory(self._max_memory)

    def _to_lua(self, value: Any) -> Any:
        """JSON value -> Lua value; nulls disappear as in Argo's decodeValue."""
        if isinstance(value, Mapping):
            return self._runtime.table_from(
                {str(k): self._to_lua(v) for k, v in value.items() if v is not None}
            )
        if isinstance(value, list | tuple):
            return self._runtime.table_from([self._to_lua(v) for v in value if v is not None])
        return value

    def run(
        self, source: str, obj: Mapping[str, Any], *, open_libs: bool = False
    ) -> tuple[str, Any, Any] | None:
        """Run a health script: (shape, status, message) of the returned table, None for a nil return.

        shape is how Argo's JSON encoding sees the table: "object", "array" (also `{}`) or "mixed".

        Raises LuaHealthError for script errors, timeouts, memory exhaustion and non-table returns.
        """
        fn = self._compiled(source)
        limit_ticks = max(1, self._max_instructions // _HOOK_EVERY)
        message = TIMEOUT_MESSAGE.format(n=self._max_instructions)
        with self._lock:
            with self._unlimited():
                self._reset()
                lua_obj = self._to_lua(obj)
            # The cap counts what the script allocates on top of `obj`: lupa pushes call arguments
            # unprotected, so the state must never start a call already at its limit.
            self._runtime.set_max_memory(
                self._runtime.get_memory_used(total=True) + self._max_memory, total=True
            )
            try:
                outcome = self._run(fn, lua_obj, open_libs, limit_ticks, message)
            except lua51.LuaError as exc:
                with self._unlimited():
                    self._reset()
                if isinstance(exc, lua51.LuaMemoryError):
                    raise LuaHealthError(MEMORY_MESSAGE.format(mb=self._max_memory // (1024 * 1024))) from exc
                raise LuaHealthError(str(exc)) from exc
            finally:
                del lua_obj
        if not outcome[0]:
            text = str(outcome[1])
            if text == "not enough memory":
                text = MEMORY_MESSAGE.format(mb=self._max_memory // (1024 * 1024))
            raise LuaHealthError(text)
        kind = outcome[1]
        if kind == "nil":
            return None
        if kind != "table":
            raise LuaHealthError(INCORRECT_RETURN_TYPE.format(want="table", got=kind))
        shape = str(outcome[2])
        status = outcome[3] if len(outcome) > 3 else None
        msg = outcome[4] if len(outcome) > 4 else None
        return shape, status, msg
