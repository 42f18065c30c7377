"""Links an on-call engineer is pointed to: runbooks and dashboards declared on the objects.

Sources, in order: the Application's `spec.info` entries with a URL value, annotations on the
Application and on its live resources whose key names a runbook (`<prefix>/runbook`,
`runbook-url`, `runbook_url`, `runbookUrl`, e.g. `acme.example/runbook`), and Argo CD's external
link annotations `link.argocd.argoproj.io/<title>`. Only http(s) URLs count; the values are
untrusted and shown through the terminal-safe renderer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
RUNBOOK_NAMES = frozenset({"runbook", "runbook-url", "runbook_url", "runbookurl"})
ARGO_LINK_PREFIX = "link.argocd.argoproj.io/"
MAX_URL = 2000


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    source: str  # where it was declared: "Application", "apps/Deployment risk/risk-engine", ...


def _url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > MAX_URL or not text.lower().startswith(("https://", "http://")):
        return None
    if any(ch.isspace() for ch in text):
        return None
    return text


def _from_annotations(annotations: object, source: str) -> list[Link]:
    out: list[Link] = []
    if not isinstance(annotations, dict):
        return out
    for key, value in sorted(annotations.items(), key=lambda kv: str(kv[0])):
        key = str(key)
        url = _url(value)
        if url is None:
            continue
        name = key.rsplit("/", 1)[-1].lower()
        if key.startswith(ARGO_LINK_PREFIX):
            out.append(Link(key[len(ARGO_LINK_PREFIX) :] or "link", url, source))
        elif name in RUNBOOK_NAMES:
            out.append(Link("Runbook", url, source))
    return out


def _describe(obj: Obj) -> str:
    md = obj.get("metadata") or {}
    api = str(obj.get("apiVersion") or "")
    group = api.split("/")[0] if "/" in api else ""
    where = f"{md.get('namespace')}/" if md.get("namespace") else ""
    return f"{group + '/' if group else ''}{obj.get('kind', '')} {where}{md.get('name', '')}"


def links(app: Obj, objects: Iterable[Obj] = ()) -> list[Link]:
    """Every declared link for `app` and its live `objects`, first declaration of a URL wins."""
    found: list[Link] = []
    for item in (app.get("spec") or {}).get("info") or []:
        if isinstance(item, dict):
            url = _url(item.get("value"))
            if url is not None:
                found.append(Link(str(item.get("name") or "link"), url, "Application"))
    found += _from_annotations((app.get("metadata") or {}).get("annotations"), "Application")
    for obj in objects:
        found += _from_annotations((obj.get("metadata") or {}).get("annotations"), _describe(obj))
    seen: set[str] = set()
    out = []
    for link in found:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out


def info_notes(app: Obj) -> list[tuple[str, str]]:
    """`spec.info` entries that are not URLs (escalation contacts, ticket queues)."""
    out = []
    for item in (app.get("spec") or {}).get("info") or []:
        if isinstance(item, dict) and item.get("value") is not None and _url(item.get("value")) is None:
            out.append((str(item.get("name") or ""), str(item.get("value"))))
    return out
