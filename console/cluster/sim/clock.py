"""Simulated wall clock, persisted in the cluster's SQLite file.

Every process that opens the same file sees the same time, so a test (or an incident drill) can
freeze or fast-forward the world and all consoles/CLIs agree on it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.cluster.sim.store import Store

_KEY = "clock"


def rfc3339(at: datetime) -> str:
    """Kubernetes metav1.Time format: second precision, UTC, trailing Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _real_now() -> datetime:
    return datetime.now(UTC)


class SimClock:
    """`now()` = real UTC time + stored offset, or the stored frozen instant."""

    def __init__(self, store: Store | Path | str) -> None:
        from console.cluster.sim.store import Store

        self._store = store if isinstance(store, Store) else Store(Path(store))

    @property
    def store(self) -> Store:
        return self._store

    def _state(self) -> dict[str, object]:
        raw = self._store.meta_get(_KEY)
        return dict(raw) if isinstance(raw, dict) else {"offset": 0.0, "frozen": None}

    def _save(self, state: dict[str, object]) -> None:
        self._store.meta_set(_KEY, state)

    def now(self) -> datetime:
        return self.from_state(self._state())

    @staticmethod
    def from_state(st: dict[str, object]) -> datetime:
        """The time a stored clock state stands for (lets callers batch the state read)."""
        frozen = st.get("frozen")
        if isinstance(frozen, str):
            return parse_rfc3339_precise(frozen)
        return _real_now() + timedelta(seconds=float(st.get("offset") or 0.0))  # type: ignore[arg-type]

    def timestamp(self) -> float:
        return self.now().timestamp()

    @property
    def frozen(self) -> bool:
        return isinstance(self._state().get("frozen"), str)

    def freeze(self, at: datetime | None = None) -> None:
        at = (at or self.now()).astimezone(UTC)
        st = self._state()
        st["frozen"] = at.isoformat()
        self._save(st)

    def unfreeze(self) -> None:
        """Resume real time from the frozen instant (time never jumps backwards)."""
        st = self._state()
        frozen = st.get("frozen")
        if isinstance(frozen, str):
            st["offset"] = (parse_rfc3339_precise(frozen) - _real_now()).total_seconds()
        st["frozen"] = None
        self._save(st)

    def advance(self, seconds: float) -> None:
        st = self._state()
        frozen = st.get("frozen")
        if isinstance(frozen, str):
            st["frozen"] = (parse_rfc3339_precise(frozen) + timedelta(seconds=seconds)).isoformat()
        else:
            st["offset"] = float(st.get("offset") or 0.0) + seconds  # type: ignore[arg-type]
        self._save(st)

    def describe(self) -> str:
        return json.dumps(self._state())


def parse_rfc3339_precise(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
