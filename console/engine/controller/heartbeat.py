"""The controller's heartbeat Lease: renewed every few seconds while the loop runs, removed when it
stops, so CLIs can tell that a controller is running (and hand an interrupted operation to it)."""

from __future__ import annotations

import time
from collections.abc import Callable

from console.cluster.api import Cluster
from console.engine.sync import lease


class Heartbeat:
    def __init__(self, control: Callable[[], Cluster], holder: str) -> None:
        self._control = control
        self.holder = holder
        self._last_beat = -1e9
        self.beating = False

    def beat(self) -> None:
        """Renew the heartbeat Lease (at most every few seconds): CLIs see a controller is running."""
        now = time.monotonic()
        if now - self._last_beat < lease.HEARTBEAT_SECONDS / 6:
            return
        self._last_beat = now
        lease.heartbeat(self._control(), self.holder)
        self.beating = True

    def stop(self) -> None:
        """Remove the heartbeat Lease if this process wrote one; a ClusterError is the caller's to log."""
        if not self.beating:
            return
        self.beating = False
        self._last_beat = -1e9
        lease.stop_heartbeat(self._control(), self.holder)
