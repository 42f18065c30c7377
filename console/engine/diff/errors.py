"""The one error of `ignoreDifferences` handling, shared by rule parsing and jq evaluation."""

from __future__ import annotations


class IgnoreRuleError(ValueError):
    """An ignoreDifferences entry that cannot be used (bad shape or invalid jq expression)."""
