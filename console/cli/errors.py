"""Exit codes (DESIGN.md §4) and the one error a command handler raises."""

from __future__ import annotations

EXIT_OK, EXIT_DIFF, EXIT_BAD_INPUT, EXIT_DENIED, EXIT_BLOCKED, EXIT_UNREACHABLE = 0, 1, 2, 3, 4, 5


class CommandError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code
