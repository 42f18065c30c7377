"""What the controller writes back after a refresh: the comparison as the Application's status
(operationState and history kept from the freshest read), and the consumed refresh annotation."""

from __future__ import annotations

from console.cluster.api import ClusterError, Obj
from console.engine.appstore import AppStore
from console.engine.compare import Comparison, stale, status_fingerprint, status_of
from console.engine.controller.log import ControllerLog
from console.engine.controller.watch import REFRESH_ANNOTATION
from console.engine.refresh import UnknownApplication
from console.engine.sync.operation import update_app, update_status

STATUS_REWRITE_AGE = 60.0  # reconciledAt alone is rewritten at most once a minute (saves writes)


def write_status(store: AppStore, app: Obj, cmp: Comparison) -> None:
    """Write the comparison; operationState/history are taken from the freshest read so an
    executor writing them concurrently is never overwritten."""
    name = app["metadata"]["name"]
    prev = app.get("status") or {}
    status = status_of(cmp, prev)
    if status_fingerprint(status) == status_fingerprint(prev) and not stale(prev, status, STATUS_REWRITE_AGE):
        return

    def mutate(live: Obj) -> Obj:
        new = dict(status)
        for key in ("operationState", "history"):
            if key in live:
                new[key] = live[key]
            else:
                new.pop(key, None)
        return new

    try:
        update_status(store, name, mutate)
    except UnknownApplication:
        pass  # deleted while we compared it


def remove_refresh_annotation(store: AppStore, name: str, log: ControllerLog) -> None:
    def mutate(app: Obj) -> None:
        annotations = (app.get("metadata") or {}).get("annotations") or {}
        annotations.pop(REFRESH_ANNOTATION, None)

    try:
        update_app(store, name, mutate)
    except UnknownApplication:
        pass
    except ClusterError as exc:
        log.warning("could not remove the refresh annotation", app=name, error=exc.message)
