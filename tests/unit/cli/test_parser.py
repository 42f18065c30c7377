"""Every command line the README shows parses to what its handler reads."""

from __future__ import annotations

import argparse

import pytest

from console.cli.main import build_parser, parse


@pytest.mark.parametrize(
    ("argv", "attrs"),
    [
        (["demo"], {"demo_args": [], "no_controller": False, "force": False}),
        (["demo", "/tmp/x"], {"demo_args": ["/tmp/x"], "no_controller": False}),
        (["demo", "init", "/tmp/x", "--force"], {"demo_args": ["init", "/tmp/x"], "force": True}),
        (["demo", "init", "--force", "/tmp/x"], {"demo_args": ["init", "/tmp/x"], "force": True}),
        (["demo", "--force", "init", "/tmp/x"], {"demo_args": ["init", "/tmp/x"], "force": True}),
        (["demo", "--no-controller"], {"no_controller": True}),
        (["console"], {"no_controller": False}),
        (["console", "--no-controller"], {"no_controller": True}),
        (["install"], {}),
        (["refresh", "a", "b", "--hard"], {"apps": ["a", "b"], "hard": True}),
        (
            ["app", "list", "-p", "payments", "--sync", "OutOfSync", "-o", "wide"],
            {"project": ["payments"], "output": "wide"},
        ),
        (["app", "get", "a", "-o", "tree"], {"app": "a", "output": "tree"}),
        (["app", "get", "a", "--refresh"], {"refresh": True, "hard_refresh": False}),
        (["app", "get", "a", "--hard-refresh"], {"refresh": False, "hard_refresh": True}),
        (
            ["app", "list", "--health", "degraded", "--sync", "outofsync"],
            {"health": "Degraded", "sync": "OutOfSync"},
        ),
        (["app", "list", "-w", "/tmp/ws"], {"workspace": "/tmp/ws"}),
        (["-w", "/tmp/ws", "app", "list"], {"workspace": "/tmp/ws"}),
        (["app", "rollback", "a", "0"], {"app": "a", "id": 0}),
        (["app", "diff", "a", "--revision", "HEAD~1"], {"app": "a", "revision": "HEAD~1"}),
        (["app", "manifests", "a", "--source", "live"], {"source": "live"}),
        (["project", "get", "payments", "-o", "json"], {"name": "payments", "output": "json"}),
        (["controller", "run", "--once"], {"once": True}),
        (
            ["console", "--theme", "high-contrast", "--no-color", "--ascii"],
            {"theme": "high-contrast", "no_color": True, "ascii": True},
        ),
        (["demo", "/tmp/x", "--theme", "ansi"], {"theme": "ansi", "demo_args": ["/tmp/x"]}),
        (["app", "resources", "a", "-o", "tree"], {"app": "a", "output": "tree"}),
        (["app", "events", "a", "-o", "json"], {"app": "a", "output": "json"}),
        (
            [
                "app",
                "logs",
                "a",
                "--kind",
                "Deployment",
                "--name",
                "web",
                "-c",
                "c",
                "--tail",
                "5",
                "-f",
                "-p",
            ],
            {
                "kind": "Deployment",
                "name": "web",
                "container": "c",
                "tail": 5,
                "follow": True,
                "previous": True,
            },
        ),
        (["changes"], {"app": None, "project": None, "since": None}),
        (["changes", "a", "--since", "2h", "-o", "json"], {"app": "a", "since": "2h", "output": "json"}),
        (["changes", "-p", "payments", "-p", "risk"], {"project": ["payments", "risk"]}),
        (["init", "/tmp/w", "--control-context", "prod"], {"dir": "/tmp/w", "control_context": "prod"}),
        (["cluster", "add", "dev", "--sim"], {"name": "dev", "sim": True}),
        (["cluster", "add", "p", "--kubeconfig", "k", "--context", "c"], {"kubeconfig": "k", "context": "c"}),
        (["cluster", "list", "-o", "json"], {"output": "json"}),
        (
            ["repo", "add", "https://g/a.git", "--username", "u", "--password-stdin"],
            {"username": "u", "password_stdin": True},
        ),
        (["repo", "add", "git@g:a.git", "--ssh-private-key-path", "k"], {"ssh_private_key_path": "k"}),
        (
            ["repo", "add", "https://g/", "--creds-template", "--username", "u", "--password-stdin"],
            {"creds_template": True},
        ),
        (["repocreds", "add", "https://g/", "--username", "u", "--password-stdin"], {"url": "https://g/"}),
        (["apply", "-f", "a.yaml", "-f", "-"], {"filename": ["a.yaml", "-"]}),
        (
            ["import", "argocd", "--context", "c"],
            {"context": "c", "namespace": "argocd", "use_argocd_tracking": False},
        ),
        (
            [
                "app",
                "create",
                "a",
                "--repo",
                "r",
                "--path",
                "p",
                "--dest-name",
                "in-cluster",
                "--dest-namespace",
                "n",
                "--sync-policy",
                "auto",
                "--auto-prune",
                "--self-heal",
                "--sync-option",
                "A=1",
                "--sync-option",
                "B=2",
            ],
            {
                "sync_policy": "automated",
                "auto_prune": True,
                "self_heal": True,
                "sync_option": ["A=1", "B=2"],
            },
        ),
        (["app", "set", "a", "--auto-prune=false"], {"auto_prune": False, "repo": None}),
        (["app", "unset", "a", "--sync-option", "A=1"], {"sync_option": ["A=1"]}),
        (["app", "resources", "a", "--orphaned"], {"orphaned": True}),
        (["scenario", "list", "-o", "json"], {"output": "json"}),
        (["scenario", "run", "hpa-noise"], {"name": "hpa-noise", "app": None}),
        (["scenario", "run", "manual-drift", "--app", "a"], {"name": "manual-drift", "app": "a"}),
        (["scenario", "reset", "--force"], {"force": True}),
        (["runbook", "list", "-o", "json"], {"output": "json"}),
        (["runbook", "show", "out-of-sync"], {"name": "out-of-sync", "output": "yaml"}),
        (["runbook", "suggest", "a", "-o", "json"], {"app": "a", "output": "json"}),
        (
            ["runbook", "run", "bad-commit-autosynced", "a", "--incident", "INC-7", "--no-prepare"],
            {"name": "bad-commit-autosynced", "app": "a", "incident": "INC-7", "prepare": False},
        ),
        (["runbook", "run", "out-of-sync", "a", "-o", "json"], {"prepare": True, "incident": None}),
    ],
)
def test_parses(argv: list[str], attrs: dict[str, object]) -> None:
    args = parse(argv)
    assert callable(args.run)  # every leaf has a handler
    for key, value in attrs.items():
        assert getattr(args, key) == value, key


def test_bad_output_format_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["app", "list", "-o", "xml"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def _actions(parser: argparse.ArgumentParser, prog: str = "trueup") -> list[tuple[str, argparse.Action]]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out.extend(_actions(child, f"{prog} {name}"))
        elif not isinstance(action, argparse._HelpAction):
            out.append((prog, action))
    return out


def test_every_flag_and_argument_has_help() -> None:
    missing = [f"{prog}: {a.option_strings or a.dest}" for prog, a in _actions(build_parser()) if not a.help]
    assert missing == []


def test_abbreviated_flags_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(["app", "sync", "a", "--prun"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "trueup app sync: error: unrecognized arguments: --prun (did you mean --prune?" in err
