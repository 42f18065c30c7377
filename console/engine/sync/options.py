"""Sync options (argocd-features.md §2.6): the Application's list and the per-resource annotation.

Argo CD matches options by exact string and silently ignores anything it does not recognise; a
typo such as `prune=false` then prunes what the operator meant to protect. trueup accepts exactly
the options it implements and raises `UnsupportedSyncOption` for everything else, naming where the
option was found, so a sync never runs with an option quietly dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from console.cluster.api import Obj, ResourceKey
from console.engine import annotations as anno

APP_WHERE = "spec.syncPolicy.syncOptions"

# Options valid in both places (the resource annotation overrides or adds to the app list).
_BOTH = (
    "Prune=false",
    "Prune=confirm",
    "Delete=false",
    "Delete=confirm",
    "Validate=false",
    "SkipDryRunOnMissingResource=true",
    "PruneLast=true",
    "Replace=true",
    "Replace=false",
    "ServerSideApply=true",
)
# `Prune=true`/`Delete=true` are the defaults, spelled out (Argo's UI writes `Prune=true`).
APP_ONLY = (
    "Prune=true",
    "Delete=true",
    "ApplyOutOfSyncOnly=true",
    "ApplyOutOfSyncOnly=false",
    "PrunePropagationPolicy=foreground",
    "PrunePropagationPolicy=background",
    "PrunePropagationPolicy=orphan",
    "CreateNamespace=true",
    "FailOnSharedResource=true",
    "RespectIgnoreDifferences=true",
    "ClientSideApplyMigration=false",
)
RESOURCE_ONLY = ("Force=true", "ServerSideApply=false")
APP_OPTIONS: tuple[str, ...] = _BOTH + APP_ONLY
RESOURCE_OPTIONS: tuple[str, ...] = _BOTH + RESOURCE_ONLY

PruneMode = Literal["prune", "false", "confirm"]
DeleteMode = Literal["delete", "false", "confirm"]

_PROPAGATION = {"foreground": "Foreground", "background": "Background", "orphan": "Orphan"}
_RESOURCE_ONLY_HINT = {
    "Force=true": "; for the whole Application use the sync strategy's force flag (trueup app sync --force)",
    "ServerSideApply=false": "; at Application level simply leave out ServerSideApply=true",
}


class UnsupportedSyncOption(ValueError):
    """A sync option trueup does not implement, used in the wrong place, or contradicting another."""

    def __init__(self, option: str, where: str, message: str) -> None:
        self.option = option
        self.where = where
        super().__init__(message)


def _where_resource(obj: Obj) -> str:
    key = ResourceKey.of(obj)
    ns = f"{key.namespace}/" if key.namespace else ""
    return f"annotation {anno.SYNC_OPTIONS} of {key.kind} {ns}{key.name}"


def _check(options: list[str], where: str, *, app: bool) -> tuple[str, ...]:
    valid = APP_OPTIONS if app else RESOURCE_OPTIONS
    seen: dict[str, str] = {}
    for opt in options:
        if opt not in valid:
            raise _rejection(opt, where, app=app)
        key = opt.split("=", 1)[0]
        other = seen.get(key)
        if other is not None and other != opt:
            raise UnsupportedSyncOption(
                opt,
                where,
                f'sync options "{other}" and "{opt}" in {where} contradict each other; keep only one',
            )
        seen[key] = opt
    return tuple(dict.fromkeys(options))


def _rejection(opt: str, where: str, *, app: bool) -> UnsupportedSyncOption:
    if app and opt in RESOURCE_ONLY:
        msg = (
            f'sync option "{opt}" in {where} is only valid in a resource\'s '
            f"{anno.SYNC_OPTIONS} annotation{_RESOURCE_ONLY_HINT[opt]}"
        )
        return UnsupportedSyncOption(opt, where, msg)
    if not app and opt in APP_ONLY:
        msg = f'sync option "{opt}" in {where} is only valid in an Application\'s {APP_WHERE}'
        return UnsupportedSyncOption(opt, where, msg)
    valid = APP_OPTIONS if app else RESOURCE_OPTIONS
    msg = f'sync option "{opt}" in {where} is not supported by trueup'
    near = [v for v in valid if v.lower() == opt.strip().lower().replace(" ", "")]
    if near:
        msg += f'; did you mean "{near[0]}"? Sync options are case-sensitive and take no spaces'
    else:
        msg += f" (supported there: {', '.join(valid)})"
    return UnsupportedSyncOption(opt, where, msg)


def resource_options(obj: Obj | None) -> tuple[str, ...]:
    """Validated `argocd.argoproj.io/sync-options` of one object (CSV, trimmed, de-duplicated)."""
    if obj is None:
        return ()
    return _check(anno.sync_options(obj), _where_resource(obj), app=False)


@dataclass(frozen=True)
class SyncOptions:
    """Validated app-level options (`spec.syncPolicy.syncOptions` or an operation's own list)."""

    options: tuple[str, ...] = ()

    @classmethod
    def parse(cls, app_options: list[str] | tuple[str, ...] | None, where: str = APP_WHERE) -> SyncOptions:
        return cls(_check(list(app_options or ()), where, app=True))

    def has(self, option: str) -> bool:
        """Argo's SyncOptions.HasOption: exact string match."""
        return option in self.options

    def value(self, key: str) -> str | None:
        """Argo's SyncOptions.GetOptionValue: value of the first `key=` entry."""
        prefix = f"{key}="
        for opt in self.options:
            if opt.startswith(prefix):
                return opt[len(prefix) :]
        return None

    @property
    def prune(self) -> PruneMode:
        v = self.value("Prune")
        return "false" if v == "false" else "confirm" if v == "confirm" else "prune"

    @property
    def delete(self) -> DeleteMode:
        v = self.value("Delete")
        return "false" if v == "false" else "confirm" if v == "confirm" else "delete"

    @property
    def validate(self) -> bool:
        return not self.has("Validate=false")

    @property
    def skip_dry_run_on_missing_resource(self) -> bool:
        return self.has("SkipDryRunOnMissingResource=true")

    @property
    def prune_last(self) -> bool:
        return self.has("PruneLast=true")

    @property
    def apply_out_of_sync_only(self) -> bool:
        return self.has("ApplyOutOfSyncOnly=true")

    @property
    def prune_propagation_policy(self) -> str:
        """Kubernetes propagationPolicy for prune deletes; Foreground unless set."""
        return _PROPAGATION[self.value("PrunePropagationPolicy") or "foreground"]

    @property
    def replace(self) -> bool:
        return self.has("Replace=true")

    @property
    def server_side_apply(self) -> bool:
        return self.has("ServerSideApply=true")

    @property
    def create_namespace(self) -> bool:
        return self.has("CreateNamespace=true")

    @property
    def fail_on_shared_resource(self) -> bool:
        return self.has("FailOnSharedResource=true")

    @property
    def respect_ignore_differences(self) -> bool:
        return self.has("RespectIgnoreDifferences=true")

    @property
    def client_side_apply_migration(self) -> bool:
        return not self.has("ClientSideApplyMigration=false")


# --- per-resource resolution (resource annotation vs app list) ----------------------------------


def _mode(obj: Obj | None, key: str, default: str) -> str:
    for opt in resource_options(obj):
        if opt in (f"{key}=false", f"{key}=confirm"):
            return opt.split("=", 1)[1]
    return default


def prune_mode(obj: Obj | None, app: SyncOptions) -> PruneMode:
    """For the live object of a prune candidate: its annotation wins over the app-wide default."""
    mode = _mode(obj, "Prune", app.prune)
    return "false" if mode == "false" else "confirm" if mode == "confirm" else "prune"


def delete_mode(obj: Obj | None, app: SyncOptions) -> DeleteMode:
    """For a live object when its Application is (cascade) deleted."""
    mode = _mode(obj, "Delete", app.delete)
    return "false" if mode == "false" else "confirm" if mode == "confirm" else "delete"


def use_server_side_apply(obj: Obj | None, app: SyncOptions, *, dry_run: bool = False) -> bool:
    """GE shouldUseServerSideApply: never for the client-side dry-run; resource `=false` wins."""
    opts = resource_options(obj)
    if dry_run or "ServerSideApply=false" in opts:
        return False
    return app.server_side_apply or "ServerSideApply=true" in opts


def use_replace(target: Obj | None, live: Obj | None, app: SyncOptions) -> bool:
    """Replace/create instead of apply (target's or live's annotation, or app). A resource's
    `Replace=false` opts it out of an app-wide `Replace=true` (Argo defines but ignores that value;
    trueup honours the explicit opt-out). CRDs and Namespaces must still be updated, never replaced:
    that is the executor's call."""
    t_opts, l_opts = resource_options(target), resource_options(live)
    if "Replace=false" in t_opts:
        return False
    return app.replace or "Replace=true" in t_opts or "Replace=true" in l_opts


def use_force(obj: Obj | None) -> bool:
    """Resource-level `Force=true`; app-wide force comes from the sync strategy, not options."""
    return "Force=true" in resource_options(obj)


def validate(obj: Obj | None, app: SyncOptions) -> bool:
    """`kubectl apply --validate`: off when the app or the target says `Validate=false`."""
    return app.validate and "Validate=false" not in resource_options(obj)


def skip_dry_run_on_missing(obj: Obj | None, app: SyncOptions) -> bool:
    """Tolerate an unknown kind at dry-run (its CRD comes later): app or target annotation."""
    return app.skip_dry_run_on_missing_resource or "SkipDryRunOnMissingResource=true" in resource_options(obj)


def prune_last(obj: Obj | None, app: SyncOptions) -> bool:
    """For the live object of a prune candidate: app-wide or its own annotation."""
    return app.prune_last or "PruneLast=true" in resource_options(obj)
