"""cel-cpp's messages in cel-go's words, so that the sim's errors read as a real apiserver's.

The apiserver puts cel-go's text into its responses: compile errors in Invalid causes
(`compilation failed: ERROR: <input>:1:3: ...`), evaluation errors in denials (`no such key: x`).
cel-cpp shares cel-go's parser and checker messages except for a few spellings, and words runtime
errors its own way; the rewrites here were checked against kube-apiserver 1.36 by the contract
suite (tests/integration/test_contract.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIM_LIMIT_NOTE = "(not available in the sim's CEL, see docs/design-notes.md)"
_UNSUPPORTED = re.compile(
    r"undeclared reference to '((?:is)?(?:quantity|Quantity|url|URL|ip|IP|cidr|CIDR|semver|Semver)"
    r"|authorizer|format\.\w+)'"
)
_STATUS_PREFIX = re.compile(r"^[A-Z_]+: ")
_STATUS_SUFFIX = re.compile(r" \[[A-Z_]+\]$")


def clean(message: str) -> str:
    """cel-cpp's status text without its code: 'INVALID_ARGUMENT: x [INVALID_ARGUMENT]' -> 'x'."""
    return _STATUS_SUFFIX.sub("", _STATUS_PREFIX.sub("", message.strip(), count=1))


# ------------------------------------------------------------------ types, as cel-go prints them

_SCALARS = {
    "BOOL": "bool",
    "INT": "int",
    "UINT": "uint",
    "DOUBLE": "double",
    "STRING": "string",
    "BYTES": "bytes",
    "NULL": "null_type",
    "DYN": "dyn",
    "ERROR": "*error*",
    "DURATION": "google.protobuf.Duration",
    "TIMESTAMP": "google.protobuf.Timestamp",
}
_GENERICS = {"LIST": "list", "MAP": "map", "TYPE": "type", "optional_type": "optional_type"}


def go_type_name(name: str) -> str:
    """cel-cpp's `LIST<MAP<STRING, DYN>>` as cel-go's `list(map(string, dyn))`."""
    head, sep, rest = name.partition("<")
    if not sep:
        return _SCALARS.get(name, name)
    args: list[str] = []
    depth, cur = 0, ""
    for ch in rest:
        if ch == ">" and depth == 0:
            break  # cel-cpp may repeat a parameter list ('optional_type<INT><INT>'): keep the first
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    args.append(cur.strip())
    return f"{_GENERICS.get(head, head.lower())}({', '.join(go_type_name(a) for a in args)})"


# ------------------------------------------------------------------ runtime errors, as cel-go words them

_GO_ARG_TYPES = {
    "int64": "int",
    "uint64": "uint",
    "duration": "google.protobuf.Duration",
    "timestamp": "google.protobuf.Timestamp",
}
# RE2's error codes (re2/regexp.cc) as Go's regexp/syntax words them.
_RE2_TO_GO = {
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid UTF-8": "invalid UTF-8",
    "invalid named capture group": "invalid named capture",
}
_NO_OVERLOAD = re.compile(
    r"^No matching overloads found : (?:\((?P<recv>[^)]*)\)\.)?(?P<fn>[^(]+)(?:\((?P<args>.*)\))?$"
)


def go_error(message: str) -> str:
    """cel-cpp's evaluation error in cel-go's words (the ones the apiserver puts in a denial)."""
    msg = clean(message)
    if m := re.fullmatch(r'Key not found in map : "?(.*?)"?', msg):
        return f"no such key: {m.group(1)}"
    if m := re.fullmatch(r"Index error: index=(-?\d+) size=\d+", msg):
        return f"index out of bounds: {m.group(1)}"
    if msg == "divide by zero":
        return "division by zero"
    if m := re.fullmatch(r"cannot convert (\w+) to (\w+)", msg):
        return f"type conversion error from '{m.group(1)}' to '{m.group(2)}'"
    if m := re.fullmatch(r"(?:int64|uint64|double) out of (u?)int64 range", msg):
        return "unsigned integer overflow" if m.group(1) else "integer overflow"
    if m := re.fullmatch(r"invalid regular expression: (.+?): (.*)", msg, re.S):
        code = _RE2_TO_GO.get(m.group(1), m.group(1))
        return f"error parsing regexp: {code}: `{m.group(2)}`"
    if " clause can only be used on " in msg:  # strings.format
        return "error during formatting: " + msg.replace(
            "decimal clause can only be used on numbers", "decimal clause can only be used on integers"
        )
    if m := _NO_OVERLOAD.match(msg):
        fn = m.group("fn")
        if not fn[:1].isalpha():  # operators (_+_, _<_, !_, @in, ...) say no more in cel-go
            return "no such overload"
        args = [a.strip() for a in (m.group("args") or "").split(",") if a.strip()]
        if m.group("recv"):
            args.insert(0, m.group("recv"))
        return f"no such overload: {fn}({', '.join(_GO_ARG_TYPES.get(a, a) for a in args)})"
    return msg


# ------------------------------------------------------------------ compile errors, as cel-go prints them

_BLOCK = re.compile(r"^ERROR: <input>:(\d+):(\d+): (.*)$")
_QUALIFIED = re.compile(r"undeclared reference to '(\w+)((?:\.\w+)+)' \(in container ''\)")
_STRUCT_FIELD = re.compile(r"(undefined field '\w+') not found in struct '[\w.]+'")
_OVERLOAD = re.compile(r"found no matching overload for '(\w+)' applied to '\((.*)\)'$")
# Kubernetes library calls the sim's CEL cannot serve (see cellib): a note says so.
_LIBRARY_GAP = re.compile(
    r"found no matching overload for '(?:(?:indexOf|lastIndexOf)' applied to '(?!string\.)"
    r"|(?:sum|min|max)' applied to 'list\(google\.protobuf\.(?:Duration|Timestamp)\))"
)


@dataclass
class _Issue:
    line: int
    col: int
    message: str

    def render(self, source_lines: list[str]) -> str:
        text = f"ERROR: <input>:{self.line}:{self.col}: {self.message}"
        if 0 < self.line <= len(source_lines):
            snippet = source_lines[self.line - 1].replace("\t", " ")
            text += f"\n | {snippet}\n | {'.' * min(self.col - 1, len(snippet))}^"
        return text


def _issues(message: str) -> list[_Issue]:
    out: list[_Issue] = []
    for line in message.splitlines():
        if m := _BLOCK.match(line):
            out.append(_Issue(int(m.group(1)), int(m.group(2)), m.group(3)))
        elif out and not line.startswith(" | "):
            out[-1].message += "\n" + line
    return out


def _member_call(source_lines: list[str], issue: _Issue, name: str) -> bool:
    """Whether the call the issue points at (its '(') is `x.name(...)` rather than `name(...)`."""
    if not 0 < issue.line <= len(source_lines):
        return False
    before = source_lines[issue.line - 1][: issue.col - 1].rstrip()
    return before.endswith(name) and before[: -len(name)].rstrip().endswith(".")


def go_compile_message(raw: str, source: str, has_variables: bool) -> str:
    """cel-cpp's checker output in cel-go's words: member overloads as 'recv.(args)', a missing
    qualified name reported at its first identifier, errors sorted by position, and a note when
    the cause is a Kubernetes CEL library the sim does not have."""
    lines = source.splitlines() or [""]
    issues = _issues(clean(raw))
    if not issues:
        return clean(raw)
    note = False
    for issue in issues:
        issue.message = _STRUCT_FIELD.sub(r"\1", issue.message)
        if issue.message == "has() argument must be a field selection":
            issue.message = "invalid argument to has() macro"
        if m := _QUALIFIED.fullmatch(issue.message):
            head, rest = m.group(1), m.group(2)
            start = issue.col - (len(head) + len(rest) - len(rest.rsplit(".", 1)[1]) - 1)
            if head == "variables" and has_variables:
                issue.col, issue.message = start + len(head), f"undefined field '{rest.split('.')[1]}'"
            else:
                issue.col, issue.message = start, f"undeclared reference to '{head}' (in container '')"
        elif (m := _OVERLOAD.match(issue.message)) and _member_call(lines, issue, m.group(1)):
            recv, _, args = m.group(2).partition(", ")
            issue.message = f"found no matching overload for '{m.group(1)}' applied to '{recv}.({args})'"
        note = note or bool(_UNSUPPORTED.search(issue.message) or _LIBRARY_GAP.search(issue.message))
    issues.sort(key=lambda i: (i.line, i.col))
    text = "\n".join(i.render(lines) for i in issues)
    return f"{text}\n{SIM_LIMIT_NOTE}" if note else text
