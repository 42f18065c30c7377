"""Line edits to YAML files in a working clone, the way a person edits them: comments, order and
formatting stay as they were, so a drill's commit diff reads like a teammate's.

Each edit checks that the file has the shape it expects and raises EditError otherwise (the drill
then refuses the app instead of committing a mangled file). The result is parsed again with the
engine's safe loader before it is committed.
"""

from __future__ import annotations

import re

from console.engine import yamlsafe


class EditError(Exception):
    pass


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _top_key(lines: list[str], key: str) -> int | None:
    for i, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            return i
    return None


def check(text: str, name: str) -> str:
    """The edited text must still be valid YAML (the engine's loader, its limits)."""
    try:
        yamlsafe.load_all(text.encode(), name)
    except Exception as exc:  # noqa: BLE001 - any parse problem means the edit went wrong
        raise EditError(f"editing {name} produced invalid YAML: {exc}") from None
    return text


def add_list_item(text: str, key: str, item: list[str], name: str) -> str:
    """Append `item` (lines, already indented as a top-level list item) to the top-level list `key`,
    creating the key at the end of the file when it is missing."""
    lines = text.splitlines()
    at = _top_key(lines, key)
    if at is None:
        out = [*lines, f"{key}:", *item]
    else:
        end = _list_end(lines, at)
        out = [*lines[:end], *item, *lines[end:]]
    return check("\n".join(out) + "\n", name)


def _list_end(lines: list[str], at: int) -> int:
    """The line after the last item of the top-level list starting at `at`."""
    end = at + 1
    last = at + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if _indent(line) == 0 and not stripped.startswith("- "):
                break
            last = end + 1
        end += 1
    return last


def set_kustomize_image(text: str, image: str, tag: str, name: str) -> tuple[str, str]:
    """Point the `images:` entry for `image` at `tag` (replacing its newTag or digest), or add the
    entry. Returns (new text, what it was before)."""
    lines = text.splitlines()
    at = _top_key(lines, "images")
    if at is not None:
        end = _list_end(lines, at)
        for i in range(at + 1, end):
            m = re.match(r"^(\s*)-?\s*name:\s*[\"']?([^\"'#\s]+)", lines[i])
            if not m or m.group(2) != image:
                continue
            j = i + 1
            item_indent = None
            while j < end:
                stripped = lines[j].strip()
                if stripped.startswith("- "):
                    break
                tm = re.match(r"^(\s*)(newTag|digest):\s*[\"']?([^\"'#\s]+)", lines[j])
                if tm:
                    item_indent = tm.group(1)
                    before = f"{tm.group(2)} {tm.group(3)}"
                    lines[j] = f"{item_indent}newTag: {_quote_tag(tag)}"
                    return check("\n".join(lines) + "\n", name), before
                j += 1
            indent = re.match(r"^(\s*)", lines[i + 1] if i + 1 < end else "").group(1) or "    "  # type: ignore[union-attr]
            lines.insert(i + 1, f"{indent}newTag: {_quote_tag(tag)}")
            return check("\n".join(lines) + "\n", name), "no tag"
    item = [f"  - name: {image}", f"    newTag: {_quote_tag(tag)}"]
    return add_list_item(text, "images", item, name), "no tag"


def _quote_tag(tag: str) -> str:
    return f'"{tag}"' if re.fullmatch(r"[0-9.]+", tag) else tag


def replace_image(text: str, old: str, new: str, name: str) -> str:
    """Replace `image: <old>` lines (a directory app's manifest)."""
    pattern = re.compile(rf"^(\s*-?\s*image:\s*)[\"']?{re.escape(old)}[\"']?\s*$", re.M)
    out, count = pattern.subn(lambda m: f"{m.group(1)}{new}", text)
    if not count:
        raise EditError(f"{name} has no `image: {old}` line")
    return check(out, name)


def remove_mapping_key(text: str, key: str, indent: int, name: str) -> str:
    """Remove the mapping key `key` at `indent` spaces with its whole block, and the comment lines
    directly above it (they describe it)."""
    lines = text.splitlines()
    prefix = " " * indent + key + ":"
    at = next(
        (i for i, line in enumerate(lines) if line.startswith(prefix) and _indent(line) == indent), None
    )
    if at is None:
        raise EditError(f"{name} has no `{key}:` at indent {indent}")
    end = at + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if (
            stripped
            and _indent(line) <= indent
            and not (stripped.startswith("- ") and _indent(line) == indent)
        ):
            break
        end += 1
    start = at
    while start > 0 and lines[start - 1].strip().startswith("#") and _indent(lines[start - 1]) == indent:
        start -= 1
    return check("\n".join(lines[:start] + lines[end:]) + "\n", name)


def append_to_mapping(text: str, parent: str, block: list[str], name: str) -> str:
    """Append `block` (lines indented for inside `parent:`) to the top-level mapping `parent`, which
    must be the file's last top-level key (checked), or insert `block`'s items into an existing
    key of the same name inside it."""
    lines = text.splitlines()
    at = _top_key(lines, parent)
    if at is None:
        raise EditError(f"{name} has no top-level `{parent}:`")
    head = block[0]
    child = head.strip()
    existing = next(
        (
            i
            for i in range(at + 1, len(lines))
            if lines[i].rstrip() == head.rstrip() and _indent(lines[i]) == _indent(head)
        ),
        None,
    )
    if existing is not None:
        out = [*lines[: existing + 1], *block[1:], *lines[existing + 1 :]]
        return check("\n".join(out) + "\n", name)
    later = [
        i
        for i in range(at + 1, len(lines))
        if lines[i].strip() and _indent(lines[i]) == 0 and not lines[i].startswith("#")
    ]
    if later:
        raise EditError(f"{name}: `{parent}:` is not the last top-level key; cannot add {child}")
    return check("\n".join([*lines, *block]) + "\n", name)
