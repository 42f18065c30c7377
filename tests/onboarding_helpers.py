"""Shared by the repository tests: run `trueup` with a file keyring, make Git repos, grep for secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TRUEUP = str(Path(sys.executable).parent / "trueup")
SECRET = "Tr0ub4dor-and-3-horses-onboarding"
USER = "alice"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}

GUESTBOOK = """apiVersion: v1
kind: ConfigMap
metadata:
  name: guestbook
data:
  greeting: hello
"""


@dataclass
class Env:
    base: Path
    env: dict[str, str]
    outputs: list[str]

    def run(
        self, *args: str, stdin: str | None = None, ws: Path | None = None, want: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        argv = [TRUEUP, *(["-w", str(ws)] if ws else []), *args]
        r = subprocess.run(argv, input=stdin or "", text=True, capture_output=True, env=self.env, timeout=300)
        self.outputs += [r.stdout, r.stderr]
        if want is not None:
            assert r.returncode == want, f"{' '.join(args)} -> {r.returncode}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr
        return r


def _git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def make_repo(srv: Path, name: str, files: dict[str, str]) -> Path:
    bare = srv / f"{name}.git"
    _git("init", "-q", "--bare", "-b", "main", str(bare))
    work = srv.parent / f"work-{name}"
    _git("init", "-q", "-b", "main", str(work))
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    _git("add", "-A", cwd=work)
    _git("commit", "-qm", "init", cwd=work)
    _git("push", "-q", str(bare), "main", cwd=work)
    return bare


def make_env(tmp_path: Path) -> Env:
    """Subprocess environment with an explicitly chosen file keyring under tmp_path."""
    e = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRUEUP_", "PYTHON_KEYRING", "GIT_")) or k == "TRUEUP_TOOLS_BIN"
    }
    e.update(
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        HOME=str(tmp_path / "home"),
        TRUEUP_USER="onboarder",
    )
    (tmp_path / "home").mkdir()
    return Env(tmp_path, e, [])


def assert_secret_nowhere(env: Env, ws: Path) -> None:
    """The credential is in no file under the workspace (sim databases included), in no output."""
    hits = subprocess.run(
        ["grep", "-rl", "--binary-files=text", SECRET, str(ws)], capture_output=True, text=True
    )
    assert hits.stdout == "", f"credential found in {hits.stdout}"
    assert not any(SECRET in text for text in env.outputs)
    # the backend really holds it (outside the workspace): the test is not vacuous
    kr = list((env.base / "xdg").rglob("*.cfg"))
    assert kr and not any(str(p).startswith(str(ws)) for p in kr)


def keyring_entry(env: Env, key: str) -> str:
    """The stored JSON of keyring entry `key` read through the same backend ("" when absent)."""
    code = (
        "import sys; from console.engine import credentials as c; e = c.load(sys.argv[1]); "
        "print(e.to_json() if e else '')"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, key], capture_output=True, text=True, env=env.env, check=True
    )
    return r.stdout.strip()
