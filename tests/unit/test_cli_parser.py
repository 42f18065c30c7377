"""Every command line the README shows parses to what its handler reads."""

from __future__ import annotations

import pytest

from console.cli.main import build_parser


@pytest.mark.parametrize(
    ("argv", "attrs"),
    [
        (["demo"], {"demo_args": [], "no_controller": False, "force": False}),
        (["demo", "/tmp/x"], {"demo_args": ["/tmp/x"], "no_controller": False}),
        (["demo", "init", "/tmp/x", "--force"], {"demo_args": ["init", "/tmp/x"], "force": True}),
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
        (["app", "diff", "a", "--revision", "HEAD~1"], {"app": "a", "revision": "HEAD~1"}),
        (["app", "manifests", "a", "--source", "live"], {"source": "live"}),
        (["project", "get", "payments", "-o", "json"], {"name": "payments", "output": "json"}),
        (["controller", "run", "--once"], {"once": True}),
    ],
)
def test_parses(argv: list[str], attrs: dict[str, object]) -> None:
    args = build_parser().parse_args(argv)
    for key, value in attrs.items():
        assert getattr(args, key) == value, key


def test_bad_output_format_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["app", "list", "-o", "xml"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
