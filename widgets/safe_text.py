"""Untrusted strings made safe for a terminal: the one policy for the console and the CLI.

Names, messages, file names and commit subjects come from repositories and clusters. Rich's
`Text` strips only a few control codes (BEL, BS, VT, FF, CR) and passes ESC, so an annotation like
`\\x1b]52;c;...\\x07` (OSC 52: write the clipboard) or `\\x1b[2J` would act on the operator's
terminal, and U+202E (right-to-left override) would make `evil.yaml` look like another name.
`visible()` rewrites every such character as a Python-style escape (`\\x1b`, `\\u202e`) so it is
seen, not executed; `widgets.text.safe_text()` builds a Rich `Text` from it (never markup).

Escaped: C0 controls (optionally keeping newline and tab), DEL, C1 (U+0080-U+009F), and the
Unicode classes Cf (format: bidi embeddings/overrides/isolates, zero-width characters, tag
characters used for "ASCII smuggling", BOM), Cs (lone surrogates, which would also make writing
the text fail) and Zl/Zp (line/paragraph separators). Backslashes are kept as they are, so the
visible form is for reading; JSON output carries the exact value.

Pure strings and stdlib only (no Rich, no Textual; an import-linter contract holds it to that), so
the CLI shares this one policy without loading the UI stack.
"""

from __future__ import annotations

import re
import unicodedata

# Candidates: anything outside printable ASCII. Most text is ASCII, so the regex finds nothing and
# the string is returned unchanged; a candidate is then checked by its Unicode category.
_CANDIDATE = re.compile(r"[^\x20-\x7e]")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def escape_char(ch: str) -> str:
    """`\\x1b`, `\\u202e`, `\\U000e0041`: how an unsafe character is shown."""
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def is_unsafe(ch: str, *, keep_newlines: bool = False) -> bool:
    """True for a character that must not reach a terminal raw."""
    if keep_newlines and ch in "\n\t":
        return False
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return True
    if code < 0xA0:
        return False
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def visible(text: object, *, keep_newlines: bool = False) -> str:
    """`text` with every terminal-unsafe character escaped. `keep_newlines` keeps `\\n` and `\\t`
    (multi-line output such as diffs); without it they are escaped too (one table cell, one line)."""
    s = text if isinstance(text, str) else str(text)
    if not _CANDIDATE.search(s):
        return s

    def repl(m: re.Match[str]) -> str:
        ch = m.group(0)
        return escape_char(ch) if is_unsafe(ch, keep_newlines=keep_newlines) else ch

    return _CANDIDATE.sub(repl, s)
