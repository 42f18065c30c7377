"""jqPathExpressions: the linear fragment runs in process, the rest in a helper killed after the timeout."""

from __future__ import annotations

import logging
import time

import pytest

from console.engine.diff import jq as norm
from console.engine.diff.errors import IgnoreRuleError
from console.engine.diff.ignore import IgnoreRule
from console.engine.diff.jq import JqTimeout, jq_is_linear, jq_paths
from console.engine.diff.normalize import normalize


@pytest.mark.parametrize(
    ("expr", "linear"),
    [
        ('.spec.template.spec.initContainers[] | select(.name == "injected-init-container")', True),
        ('.metadata.labels["node-role.kubernetes.io/worker"]', True),
        ('.spec.containers[].env[]? | select(.name | startswith("OTEL_"))', True),
        ('.spec.rules[] | select(.host != null and (.host | endswith(".internal")))', True),
        (".a[0]", True),
        ('."a-b".c', True),
        (".. | .image?", False),  # recursive descent
        (".a, .b", False),  # comma multiplies
        (".spec | until(false; .)", False),  # loop
        (".a[.b[]]", False),
        ("[.a]", False),  # array construction
        (".x | select(.y[] == 1)", False),  # iterator inside parentheses
        ('.a | test("(a+)+$")', False),  # regex
        ('"\\(.a)"', False),  # string interpolation
        ("$__loc__", False),
        (".a * 100000000", False),  # arithmetic (string repetition)
        ("def f: f; f", False),
    ],
)
def test_linear_fragment_classification(expr: str, linear: bool) -> None:
    assert jq_is_linear(expr) is linear


def test_in_process_and_helper_agree() -> None:
    obj = {"spec": {"containers": [{"name": "a", "env": [{"name": "OTEL_X"}, {"name": "Y"}]}, {"name": "b"}]}}
    expr = '.spec.containers[].env[]? | select(.name | startswith("OTEL_"))'
    assert jq_is_linear(expr)
    in_process = jq_paths(expr, obj)
    via_helper = norm._WORKER.paths(expr, obj, 5.0)
    assert in_process == via_helper == [["spec", "containers", 0, "env", 0]]


def test_runaway_expression_is_stopped_by_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}
    rule = IgnoreRule(kind="ConfigMap", jq_path_expressions=(".data | until(false; .)", ".data.b"))
    norm._WORKER.paths(".", {}, 10.0)  # start the helper so the timing below measures only the expression
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="console.engine.diff.jq"):
        out = normalize(obj, [rule])
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 5, elapsed
    # the runaway rule is skipped (Argo logs and skips a failing patch); the next one still applies
    assert out["data"] == {"a": "1"}
    assert "timed out (1s)" in caplog.text
    # the helper is restarted on demand after being killed
    assert jq_paths('(.data.a | select(. == "1")), .data.b', obj) == [["data", "a"], ["data", "b"]]


def test_timeout_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(norm, "JQ_TIMEOUT_SECONDS", 0.3)
    norm._WORKER.paths(".", {}, 10.0)
    start = time.monotonic()
    with pytest.raises(JqTimeout, match=r"0.3s"):
        jq_paths("last(range(1e12))", {})
    assert time.monotonic() - start < 3


def test_invalid_expression_is_a_rule_error() -> None:
    with pytest.raises(IgnoreRuleError, match="invalid jqPathExpression"):
        normalize(
            {"kind": "ConfigMap", "apiVersion": "v1"}, [IgnoreRule(kind="*", jq_path_expressions=(".a[[",))]
        )
