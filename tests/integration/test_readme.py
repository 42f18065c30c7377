"""The README's command lines work exactly as written for a newcomer (issue 7 item 12).

Every line of every ```sh block of README.md runs, in order, in ONE bash session started in the
checkout, with HOME pointed at a temporary directory (so `~/trueup-demo` is a fresh temp dir) and a
PATH without `trueup` on it (as on a fresh machine: the README's own `source .venv/bin/activate`
line must put it there). Each line must exit with its documented code: 0 unless EXIT_CODES says
otherwise for that exact line.

Lines that are interactive, long-running or recursive are replaced by their non-interactive
equivalent; the list is explicit (REPLACED) and a README line that is neither run as written nor
replaced here fails the test:
- `make demo` opens the console (a TUI) after creating and refreshing the demo: replaced by what
  it does minus the console, through the same Makefile prerequisite (`make .venv/.installed`, the
  recipe's `trueup demo DIR` = `demo init DIR` + one refresh).
- `make test` is the suite that runs this test: replaced by `true` (recursion).
- `trueup controller run` runs until SIGTERM/SIGINT: bounded with `timeout --preserve-status`,
  which sends SIGTERM after 8 s; the controller then finishes its step and exits 0.

"Your own repositories" needs a Git server: the test serves a repository with `git http-backend`
behind basic auth on 127.0.0.1 and passes its URL and credentials as GIT_URL, GIT_USER and
GIT_PASSWORD, as the README says. The credential must then be in no file of the workspace and in
no output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.onboarding_helpers import make_repo
from tests.servers import git_http_server

GIT_USER, GIT_PASSWORD = "readme", "readme-Secret-7f3e9b2a"
GUESTBOOK = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guestbook\ndata:\n  greeting: hello\n"

README = ROOT / "README.md"

REPLACED: dict[str, str] = {
    "make demo": "make .venv/.installed && .venv/bin/trueup demo init ~/trueup-demo "
    "&& .venv/bin/trueup -w ~/trueup-demo refresh",
    "make test": "true",
    "trueup controller run": "timeout --preserve-status -s TERM 8 trueup controller run",
}

# documented non-zero exit codes, per exact command (before any trailing comment)
EXIT_CODES: dict[str, set[int]] = {
    "trueup app diff identity-api-prod-us": {1},  # exit 1: there is a diff (the seeded kubectl edit)
    "TRUEUP_USER=carol trueup app sync payments-api-prod-us": {3},  # permission denied
    "trueup app sync payments-api-prod-eu": {4},  # blocked by the deny window
    "trueup app sync risk-engine-prod-us": {3},  # bob is not a risk engineer
    "trueup app logs risk-engine-prod-eu": {1},  # exit 1: its containers never started (unpullable image)
}


def readme_lines(text: str) -> list[str]:
    """The command lines of the ```sh blocks, in order (blank and comment-only lines dropped)."""
    lines, in_sh = [], False
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("```"):
            in_sh = not in_sh and stripped[3:].strip() in ("sh", "bash", "shell", "console")
            continue
        if in_sh and stripped and not stripped.startswith("#"):
            lines.append(raw.rstrip())
    return lines


def _command(line: str) -> str:
    """The line without its trailing `# comment` (README comments never contain quotes)."""
    return re.sub(r"\s+#.*$", "", line).strip()


def _newcomer_path() -> str:
    """PATH without any directory that holds a `trueup` (the test itself runs with .venv/bin on PATH)."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    return os.pathsep.join(d for d in dirs if not (Path(d) / "trueup").exists())


def test_readme_command_lines_run_as_written(tmp_path: Path) -> None:
    lines = readme_lines(README.read_text())
    commands = [_command(line) for line in lines]
    assert "source .venv/bin/activate" in commands and "cd ~/trueup-demo" in commands
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    out.mkdir()
    script = ["set +e"]
    for i, (line, cmd) in enumerate(zip(lines, commands, strict=True)):
        run = REPLACED.get(cmd, line)  # as written (with its comment), unless replaced above
        script += ["{", run, f'}} >"{out}/{i}.out" 2>"{out}/{i}.err" </dev/null', f'echo $? >"{out}/{i}.rc"']
    env = {
        "HOME": str(home),
        "PATH": _newcomer_path(),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "TRUEUP_USER": "newcomer",
    }
    if os.environ.get("TRUEUP_TOOLS_BIN"):
        env["TRUEUP_TOOLS_BIN"] = os.environ["TRUEUP_TOOLS_BIN"]
    assert shutil.which("trueup", path=env["PATH"]) is None  # a fresh machine: not on PATH yet
    srv = tmp_path / "srv"
    srv.mkdir()
    make_repo(srv, "guestbook", {"guestbook/cm.yaml": GUESTBOOK})
    with git_http_server(srv, GIT_USER, GIT_PASSWORD) as server:
        env.update(GIT_URL=f"{server.url}/guestbook.git", GIT_USER=GIT_USER, GIT_PASSWORD=GIT_PASSWORD)
        subprocess.run(
            ["bash", "--noprofile", "--norc"],
            input="\n".join(script) + "\n",
            text=True,
            cwd=ROOT,
            env=env,
            timeout=900,
            check=True,
        )
    failures = []
    for i, cmd in enumerate(commands):
        rc_file = out / f"{i}.rc"
        rc = int(rc_file.read_text()) if rc_file.exists() else None
        want = EXIT_CODES.get(cmd, {0})
        err = (out / f"{i}.err").read_text() if (out / f"{i}.err").exists() else ""
        if rc not in want or "Traceback" in err:
            failures.append(f"{cmd!r}: exit {rc}, want {sorted(want)}; stderr: {err.strip()[-500:]}")
    assert failures == [], "\n".join(failures)
    # the lines really did their work (not a string of no-ops)
    assert (home / "trueup-demo" / "trueup.yaml").exists()
    listing = (out / f"{commands.index('trueup app list')}.out").read_text()
    assert "payments-api-prod-us" in listing and "OutOfSync" in listing
    history = (out / f"{commands.index('trueup app history payments-api-prod-us')}.out").read_text()
    assert len(history.splitlines()) >= 3  # header, the initial deployment (0) and the README's sync (1)
    report = (out / f"{commands.index('trueup audit report --incident INC-42')}.out").read_text()
    assert (
        "payments/payments-api-prod-eu" in report
        and "BREAK-GLASS" in report
        and "Audit chain: verified" in report
    )
    review = (out / f"{commands.index('trueup audit report --incident INC-7')}.out").read_text()
    assert "## Runbook bad-commit-autosynced on risk-engine-prod-us" in review
    assert "- Action taken: revert-commit:" in review and "risk-engine: roll out 2.3.8 to prod-us" in review
    assert "- Resolved: yes" in review  # the pushed revert, delivered by auto-sync
    denied = (
        out / f"{commands.index('TRUEUP_USER=carol trueup app sync payments-api-prod-us')}.err"
    ).read_text()
    assert "permission denied: carol may not sync applications/payments/payments-api-prod-us" in denied
    assert set(EXIT_CODES) <= set(commands) and set(REPLACED) <= set(commands)  # no stale entries
    # "Your own repositories": synced from the loopback server, the credential nowhere it must not be
    waited = (out / f"{commands.index('trueup app wait guestbook --health --sync')}.out").read_text()
    assert "guestbook: Synced, Healthy" in waited
    applied = (out / f"{commands.index('trueup apply -f guestbook.yaml')}.out").read_text()
    assert applied.strip() == "application.trueup.dev/guestbook unchanged"
    mine = home / "my-gitops"
    hits = subprocess.run(
        ["grep", "-rl", "--binary-files=text", GIT_PASSWORD, str(mine)], capture_output=True, text=True
    )
    assert (mine / "trueup.yaml").exists() and hits.stdout == ""
    assert not any(GIT_PASSWORD in f.read_text() for f in out.iterdir())
