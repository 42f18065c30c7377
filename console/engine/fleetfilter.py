"""The fleet filter language (the console's `/`), over AppFacts.

Whitespace-separated terms, all of which must hold:
- `field:value` — `health:Degraded`, `sync:OutOfSync`, `project:payments`, `cluster:prod-eu`,
  `ns:payments`, `status:SyncFailed`, `name:pay*`, `window:denied`, `auto:off`, `rev:3f2a1bc`;
  case-insensitive, exact unless the value has `*`/`?` (glob), `rev` matches a prefix;
- plain text — a substring of name, project, cluster, namespace, message or revision; a term
  with regex characters is a regular expression (case-insensitive) when it compiles;
- `!term` negates a term; a lone leading `!` (`! payments`) negates the whole filter (k9s).
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache

from console.engine.fleet import AppFacts

FIELDS = {
    "name": "name",
    "project": "project",
    "proj": "project",
    "p": "project",
    "cluster": "cluster",
    "c": "cluster",
    "namespace": "namespace",
    "ns": "namespace",
    "sync": "sync",
    "health": "health",
    "status": "overall",
    "window": "window",
    "auto": "auto_sync",
    "autosync": "auto_sync",
    "rev": "revision",
    "revision": "revision",
}
_REGEX_CHARS = set("^$.*+?[](){}|\\")


@dataclass(frozen=True)
class Term:
    field: str  # "" for free text
    value: str
    negate: bool = False
    regex: re.Pattern[str] | None = None

    def test(self, f: AppFacts) -> bool:
        return self._test(f) != self.negate

    def _test(self, f: AppFacts) -> bool:
        v = self.value.lower()
        if not self.field:
            if self.regex is not None:  # anchors (^, $) apply to each field, not to their join
                return any(self.regex.search(x) for x in search_fields(f))
            return v in search_text(f)
        actual = str(getattr(f, self.field, "")).lower()
        if self.field == "revision":
            return bool(v) and (actual.startswith(v) or f.synced_revision.lower().startswith(v))
        if self.field == "window" and v in ("denied", "deny", "closed"):
            return actual == "sync denied"
        if self.field == "auto_sync" and v == "on":
            return actual.startswith("on")
        if any(ch in v for ch in "*?["):
            return fnmatch.fnmatchcase(actual, v)
        return actual == v


@dataclass
class Filter:
    text: str = ""
    terms: list[Term] = field(default_factory=list)
    negate_all: bool = False
    error: str = ""

    @property
    def active(self) -> bool:
        return bool(self.terms)

    def matches(self, f: AppFacts) -> bool:
        ok = all(t.test(f) for t in self.terms)
        return ok != self.negate_all


@lru_cache(maxsize=32768)
def search_fields(f: AppFacts) -> tuple[str, ...]:
    return (f.name, f.project, f.cluster, f.namespace, f.message, f.revision[:12], f.overall)


@lru_cache(maxsize=32768)
def search_text(f: AppFacts) -> str:
    return " ".join(search_fields(f)).lower()


def parse(text: str) -> Filter:
    """Never raises: a bad term (unbalanced quote, bad regex) is kept as plain text and named in
    `error`, so typing never breaks the view."""
    out = Filter(text=text)
    raw = text.strip()
    if raw.startswith("! ") or raw == "!":
        out.negate_all = True
        raw = raw[1:].strip()
    try:
        words = shlex.split(raw)
    except ValueError:
        words = raw.split()
        out.error = "unbalanced quote"
    for word in words:
        negate = word.startswith("!") and len(word) > 1
        if negate:
            word = word[1:]
        name, sep, value = word.partition(":")
        if sep and name.lower() in FIELDS and value:
            out.terms.append(Term(FIELDS[name.lower()], value, negate))
            continue
        regex = None
        if _REGEX_CHARS & set(word):
            try:
                regex = re.compile(word, re.IGNORECASE)
            except re.error as exc:
                out.error = f"not a regular expression ({exc.msg}): matching {word!r} as text"
        out.terms.append(Term("", word, negate, regex))
    return out
