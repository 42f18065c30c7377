"""`spec.syncPolicy`: automated sync (prune, selfHeal), sync options, retry with backoff."""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from console.engine.model.base import Bool, Int, List, Model, Str, StrMap, model
from console.engine.model.durations import BackoffDuration, parse_duration
from console.engine.model.errors import fail

DEFAULT_RETRY_DURATION = 5.0  # seconds (application_defaults.go)
DEFAULT_RETRY_FACTOR = 2
DEFAULT_RETRY_MAX_DURATION = 180.0  # 3m


@model
class SyncPolicyAutomated(Model):
    prune: Bool = False
    self_heal: Bool = False
    allow_empty: Bool = False
    enabled: Bool | None = None


@model
class Backoff(Model):
    duration: BackoffDuration = ""
    factor: Int | None = None
    max_duration: BackoffDuration = ""

    @field_validator("factor")
    @classmethod
    def _factor_at_least_one(cls, factor: int | None) -> int | None:
        if factor is not None and factor < 1:
            raise fail("must be at least 1")
        return factor

    def duration_seconds(self) -> float:
        return parse_duration(self.duration) if self.duration else DEFAULT_RETRY_DURATION

    def max_duration_seconds(self) -> float:
        return parse_duration(self.max_duration) if self.max_duration else DEFAULT_RETRY_MAX_DURATION

    def effective_factor(self) -> int:
        return DEFAULT_RETRY_FACTOR if self.factor is None else self.factor


@model
class RetryStrategy(Model):
    """`retry`: limit 0 = no retries, < 0 = unlimited; backoff defaults 5s x2 capped at 3m."""

    limit: Int = 0
    backoff: Backoff | None = None
    refresh: Bool = False

    def next_retry_delay(self, retry_count: int) -> float:
        """Seconds to wait before retry number `retry_count` (0 for the first retry).

        T:RetryStrategy.NextRetryAt: duration * factor^retryCount, capped at maxDuration (if > 0).
        """
        backoff = self.backoff or Backoff()
        duration = backoff.duration_seconds()
        factor = backoff.effective_factor()
        cap = backoff.max_duration_seconds()
        try:
            delay = duration * math.pow(factor, retry_count)
        except OverflowError:
            delay = math.inf
        if cap > 0:
            delay = min(cap, delay)
        return delay

    def allows_retry(self, retry_count: int) -> bool:
        return self.limit < 0 or retry_count < self.limit


@model
class ManagedNamespaceMetadata(Model):
    labels: StrMap | None = None
    annotations: StrMap | None = None


@model
class SyncPolicy(Model):
    automated: SyncPolicyAutomated | None = None
    sync_options: List[Str] = Field(default_factory=list)
    retry: RetryStrategy | None = None
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None

    def has_sync_option(self, option: str) -> bool:
        """Exact string match, as Argo's SyncOptions.HasOption."""
        return option in self.sync_options

    def sync_option_value(self, key: str) -> str | None:
        """Value of the first `key=value` entry (SyncOptions.GetOptionValue)."""
        prefix = f"{key}="
        for opt in self.sync_options:
            if opt.startswith(prefix):
                return opt[len(prefix) :]
        return None
