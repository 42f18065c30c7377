"""The terminal-safety policy (widgets.safe_text) and the CLI's stream guard (console.cli.output)."""

from __future__ import annotations

import io
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from console.cli.output import TerminalGuard, guard_terminal, table
from widgets.safe_text import is_unsafe, visible
from widgets.text import safe_text

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def test_exactly_the_unsafe_classes_are_escaped_over_all_of_unicode() -> None:
    wrong = []
    for code in range(0x110000):
        ch = chr(code)
        expected = unicodedata.category(ch) in UNSAFE_CATEGORIES
        if is_unsafe(ch) != expected:
            wrong.append(hex(code))
    assert wrong == []


def test_examples() -> None:
    assert visible("a\x1b]52;c;aGk=\x07b") == "a\\x1b]52;c;aGk=\\x07b"
    assert visible("\x9b31m\x85\x7f") == "\\x9b31m\\x85\\x7f"
    assert visible("evil\u202egpj.exe") == "evil\\u202egpj.exe"
    assert visible("tag\U000e0041") == "tag\\U000e0041"
    assert visible("line\nnext\ttab\r") == "line\\x0anext\\x09tab\\x0d"
    assert visible("line\nnext\ttab\r", keep_newlines=True) == "line\nnext\ttab\\x0d"
    assert visible("lone \udcff surrogate") == "lone \\udcff surrogate"
    for fine in ("payments-api", "café ✓ ♥ …", "日本語", "emoji 🚀", "nbsp\u00a0x", "[bold]x[/]"):
        assert visible(fine) == fine


@given(st.text())
def test_output_never_carries_an_unsafe_character(text: str) -> None:
    for keep in (False, True):
        out = visible(text, keep_newlines=keep)
        assert not any(is_unsafe(ch, keep_newlines=keep) for ch in out)
        out.encode("utf-8")  # lone surrogates are escaped, so writing can never fail


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_is_unchanged(text: str) -> None:
    assert visible(text) == text


def test_safe_text_is_never_markup() -> None:
    t = safe_text("[bold red]x[/] weird[/x]name\x1b[31m", style="green")
    assert t.plain == "[bold red]x[/] weird[/x]name\\x1b[31m"
    assert t.spans == [] and str(t.style) == "green"


def test_guard_escapes_everything_written_and_restores_the_streams() -> None:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with guard_terminal():
            assert isinstance(sys.stdout, TerminalGuard)
            print("name\x1b[2J\u202e", "ok\n")
            print("boom\x07", file=sys.stderr)
            table(["NAME", "MESSAGE"], [["a\nb", "tab\there"]])
        assert sys.stdout is out and sys.stderr is err
    finally:
        sys.stdout, sys.stderr = saved
    assert out.getvalue() == "name\\x1b[2J\\u202e ok\n\nNAME    MESSAGE\na\\x0ab  tab\\x09here\n"
    assert err.getvalue() == "boom\\x07\n"
