"""Health statuses and their order (gitops-engine healthOrder), and the verdict type every check returns.
Messages are Argo's strings verbatim because SREs grep for them and runbooks quote them.
"""

from __future__ import annotations

from dataclasses import dataclass

HEALTHY = "Healthy"


PROGRESSING = "Progressing"


DEGRADED = "Degraded"


SUSPENDED = "Suspended"


MISSING = "Missing"


UNKNOWN = "Unknown"


# most healthy -> least healthy (gitops-engine healthOrder)
HEALTH_ORDER: tuple[str, ...] = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)


VALID_STATUSES = frozenset(HEALTH_ORDER)


APP_GROUPS = ("trueup.dev", "argoproj.io")


INVALID_HEALTH_STATUS = "Lua returned an invalid health status"  # util/lua invalidHealthStatus
EMPTY = ""  # the empty status a script gives with `return nil` or `return {}` (Argo: HealthStatus{})


def is_worse(current: str, new: str) -> bool:
    """True when `new` is less healthy than `current`; unknown codes rank as Healthy, like Go."""
    cur = HEALTH_ORDER.index(current) if current in VALID_STATUSES else 0
    nxt = HEALTH_ORDER.index(new) if new in VALID_STATUSES else 0
    return nxt > cur


@dataclass(frozen=True)
class HealthStatus:
    status: str
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        """Argo's JSON shape: message omitted when empty."""
        out = {"status": self.status}
        if self.message:
            out["message"] = self.message
        return out
