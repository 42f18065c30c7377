"""Checks about the source (§23.1-23.3): can trueup fetch and render it, since when not, what the
grace period did, and what still runs in the cluster meanwhile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from console.engine.runbooks.checks.base import Result, check, one_line
from console.engine.runbooks.facts import Facts, ago, clock, parse_time

OUTCOMES = ("unreachable", "access", "revision", "render", "no")


def _classify(message: str) -> str:
    low = message.lower()
    if "refused access" in low or "authentication" in low or "permission denied" in low:
        return "access"
    if "unreachable" in low or "timed out" in low or "could not resolve" in low:
        return "unreachable"
    if (
        "unable to resolve" in low
        or "not found" in low
        and "revision" in low
        or "couldn't find remote ref" in low
    ):
        return "revision"
    return "render"


@check("source-error", "trueup cannot fetch or render the app's source (ComparisonError)", OUTCOMES)
def source_error(facts: Facts, _p: Any) -> Result:
    errors = facts.conditions("ComparisonError")
    kept = facts.comparison.kept_previous
    since = parse_time(facts.comparison.source_error_since or facts.status.get("sourceErrorSince"))
    grace = facts.ws.settings.repo_error_grace_period
    if not errors and not kept:
        return Result("no", "no: the source fetches and renders")
    message = one_line(errors[0].get("message") if errors else "the repository is unreachable", 400)
    kind = _classify(message)
    evidence = [message]
    if since is not None:
        end = since + timedelta(seconds=grace)
        if kept:
            evidence.append(
                f"failing since {clock(since)} ({ago(facts.now, since)}): inside the {int(grace)}s grace period the "
                f"last good status is kept until {clock(end)}"
            )
        else:
            evidence.append(
                f"failing since {clock(since)} ({ago(facts.now, since)}); the {int(grace)}s grace period ended at {clock(end)}"
            )
    evidence.append(f"repository {facts.repo_url}, revision {facts.source.get('targetRevision') or 'HEAD'}")
    words = {
        "unreachable": "the repository is unreachable",
        "access": "access to the repository is refused (credentials)",
        "revision": "the revision does not exist",
        "render": "the manifests do not render",
    }
    return Result(kind, f"yes: {words[kind]}", evidence)


@check("last-known-good", "what the cluster runs while the source is unavailable (the last sync)")
def last_known_good(facts: Facts, _p: Any) -> Result:
    hist = facts.history
    if not hist:
        return Result("unknown", "no sync is recorded for this application")
    last = hist[-1]
    at = parse_time(last.get("deployedAt"))
    rev = str(last.get("revision") or "")
    health = facts.comparison.health.status
    return Result(
        "yes",
        f"the cluster still runs {rev[:7]} (synced {ago(facts.now, at)}), health {health}",
        ["nothing is applied while the source cannot be read: do not patch the cluster by hand meanwhile"],
        {"revision": rev},
    )
