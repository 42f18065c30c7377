"""Evaluating a check against the facts: parameters parsed by the check's model, results memoised
per walk (suggest and run share them), and any failure turned into an `unknown` answer."""

from __future__ import annotations

import json
from typing import Any

from console.cluster.api import ClusterError
from console.engine.runbooks.checks.base import UNKNOWN, Result
from console.engine.runbooks.checks.catalog import checks
from console.engine.runbooks.facts import FactError, Facts
from console.engine.sources import RepoError


def evaluate(facts: Facts, name: str, params: dict[str, Any]) -> Result:
    key = (name, json.dumps(params, sort_keys=True, default=str))
    memo: dict[tuple[str, str], Result] = facts.__dict__.setdefault("_results", {})
    if key in memo:
        return memo[key]
    cd = checks()[name]
    try:
        result = cd.fn(facts, cd.params.model_validate(params))
    except (FactError, RepoError) as exc:
        result = Result(UNKNOWN, f"cannot tell: {exc}")
    except ClusterError as exc:
        result = Result(UNKNOWN, f"cannot tell: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - one broken check must not stop the walk
        result = Result(
            UNKNOWN, f"the check failed ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        )
    result.evidence = [e for e in result.evidence if e]
    memo[key] = result
    return result
