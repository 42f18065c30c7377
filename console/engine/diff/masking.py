"""Secret masking, Argo CD's `HideSecretData` (argocd-features.md §3.4).

Secret values must never reach a diff, a log line, an audit record or a screenshot, yet on-call
must see *that* a value changed. Each data key's distinct values across the objects shown
together get `++++++++`, `++++++++++++`, ... (per key, in order of appearance), so equal values
mask identically and a changed value shows as a different run of `+` without revealing content.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from console.cluster.api import split_api_version
from console.engine import yamlsafe
from console.engine.diff.jsoncopy import json_copy
from console.engine.diff.normalize import LAST_APPLIED, fold_secret, secret_nulls

MASK = "++++++++"
_STEP = "++++"
MIN_REDACT_LENGTH = 4  # shorter values would shred unrelated text and protect nothing

Obj = dict[str, Any]


def is_core_secret(obj: object) -> bool:
    if not isinstance(obj, dict) or obj.get("kind") != "Secret":
        return False
    api_version = obj.get("apiVersion")
    return isinstance(api_version, str) and split_api_version(api_version)[0] == ""


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _hide(objs: Sequence[Obj | None], field: str, keys: Iterable[str] | None) -> None:
    """Mask `obj[field][key]` in place across `objs` with Argo's per-key numbering."""
    maps = [o.get(field) if o is not None else None for o in objs]
    maps = [m if isinstance(m, dict) else None for m in maps]
    if keys is None:
        wanted: list[str] = []
        for m in maps:
            for k in m or ():
                if k not in wanted:
                    wanted.append(k)
    else:
        wanted = list(keys)
    for key in wanted:
        replacement: dict[str, str] = {}
        nxt = MASK
        for m in maps:
            if m is None or key not in m:
                continue
            text = _as_text(m[key])
            if text not in replacement:
                replacement[text] = nxt
                nxt += _STEP
            m[key] = replacement[text]


def mask_secrets(objs: Sequence[Obj | None]) -> list[Obj | None]:
    """Copies of `objs` with every core Secret's data masked consistently across all of them.

    `stringData` is folded into `data` first so a value given either way masks the same. Objects
    that are not core Secrets are returned as they are (not copied).
    """
    if not any(is_core_secret(o) for o in objs):
        return list(objs)
    out: list[Obj | None] = []
    for o in objs:
        if is_core_secret(o):
            assert o is not None
            c = json_copy(secret_nulls(o))
            fold_secret(c)
            out.append(c)
        else:
            out.append(o)
    _hide([o if is_core_secret(o) else None for o in out], "data", None)
    return out


def _last_applied(live: Obj) -> tuple[bool, Obj | None]:
    """(present, parsed) for the last-applied annotation of `live`."""
    md = live.get("metadata")
    annotations = md.get("annotations") if isinstance(md, dict) else None
    if not isinstance(annotations, dict) or LAST_APPLIED not in annotations:
        return False, None
    text = annotations[LAST_APPLIED]
    if not isinstance(text, str):
        return True, None
    try:  # cluster content: the manifest size and depth limits apply
        parsed = yamlsafe.load_json(text, LAST_APPLIED)
    except yamlsafe.ManifestError:
        return True, None  # unparsable: the caller hides it whole (fail closed)
    return True, parsed if isinstance(parsed, dict) else None


def _set_annotation(obj: Obj, key: str, value: str) -> None:
    md = obj.setdefault("metadata", {})
    annotations = md.get("annotations")
    annotations = dict(annotations) if isinstance(annotations, dict) else {}
    annotations[key] = value
    md["annotations"] = annotations


def mask_secret_pair(
    target: Obj | None, live: Obj | None, *, sensitive_annotations: Iterable[str] = ()
) -> tuple[Obj | None, Obj | None]:
    """Argo's HideSecretData for a (target, live) pair, including live's last-applied copy."""
    hidden = list(sensitive_annotations)
    if not (is_core_secret(target) or is_core_secret(live) or hidden):
        return target, live
    present, orig = _last_applied(live) if live is not None else (False, None)
    masked = mask_secrets([target, live, orig])
    if hidden:
        masked = mask_annotations_many(masked, hidden)
    new_target, new_live, new_orig = masked
    if new_live is not None and present:
        new_live = new_live if new_live is not live else json_copy(live)
        assert new_live is not None
        if new_orig is None or LAST_APPLIED in hidden:
            text = MASK  # unparsable or itself sensitive: hide it whole, as Argo does
        else:
            text = json.dumps(new_orig, sort_keys=True, separators=(",", ":"))
        if is_core_secret(live) or hidden:
            _set_annotation(new_live, LAST_APPLIED, text)
    return new_target, new_live


def mask_annotations_many(objs: Sequence[Obj | None], keys: Iterable[str]) -> list[Obj | None]:
    """Copies of `objs` with the listed annotations masked consistently (`resource.sensitive.mask.annotations`)."""
    wanted = [k for k in keys]
    out: list[Obj | None] = [json_copy(o) if isinstance(o, dict) else None for o in objs]
    metas: list[Obj | None] = []
    for o in out:
        md = o.get("metadata") if o is not None else None
        metas.append(md if isinstance(md, dict) else None)
    _hide(metas, "annotations", [k for k in wanted if k != LAST_APPLIED])
    if LAST_APPLIED in wanted:
        for md in metas:
            annotations = md.get("annotations") if md is not None else None
            if isinstance(annotations, dict) and LAST_APPLIED in annotations:
                annotations[LAST_APPLIED] = MASK
    return out


def mask_annotations(obj: Obj | None, keys: Iterable[str]) -> Obj | None:
    """A copy of `obj` with the listed annotation values replaced by `++++++++`."""
    return mask_annotations_many([obj], keys)[0]


def annotation_values(obj: object, keys: Iterable[str]) -> list[str]:
    """The values of the listed (sensitive) annotations of any object (for `redact_text`)."""
    md = obj.get("metadata") if isinstance(obj, dict) else None
    annotations = md.get("annotations") if isinstance(md, dict) else None
    if not isinstance(annotations, dict):
        return []
    return [v for k in keys if isinstance(v := annotations.get(k), str) and v]


def mask_for_display(obj: Obj, sensitive_annotations: Iterable[str] = ()) -> Obj:
    """One object as shown on its own (manifests, `app get -o json`): Secret data, the listed
    annotations and the last-applied copy of both masked. Returns `obj` itself when nothing is."""
    _, masked = mask_secret_pair(None, obj, sensitive_annotations=sensitive_annotations)
    return masked if masked is not None else obj


def secret_values(obj: object) -> list[str]:
    """The decoded and encoded data values of a core Secret (for `redact_text`)."""
    if not is_core_secret(obj):
        return []
    assert isinstance(obj, dict)
    c = json_copy(secret_nulls(obj))
    fold_secret(c)
    data = c.get("data")
    return [v for v in data.values() if isinstance(v, str)] if isinstance(data, dict) else []


def _forms(value: str | bytes) -> set[str]:
    raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    forms: set[str] = set()
    if isinstance(value, str):
        forms.add(value)
    else:
        try:
            forms.add(value.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = enc.decode("ascii")
        forms.add(text)
        forms.add(text.rstrip("="))
    # a Secret's `data` value is itself base64: also redact what it decodes to
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value) and len(value) % 4 == 0:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if decoded:
            forms.add(decoded)
    return {f for f in forms if len(f) >= MIN_REDACT_LENGTH}


def redact_text(text: str, secrets: Iterable[str | bytes]) -> str:
    """Replace raw and base64 forms of known secret values in `text` with `++++++++`.

    Longest forms are replaced first so a value never leaks through a partial match. Values shorter
    than MIN_REDACT_LENGTH are not redacted.
    """
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms |= _forms(secret)
    if not forms:
        return text
    pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
    return pattern.sub(MASK, text)
