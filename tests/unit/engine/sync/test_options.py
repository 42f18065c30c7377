"""Sync options (argocd-features.md §2.6): parsing, rejection messages, resource-vs-app precedence."""

from __future__ import annotations

from typing import Any

import pytest

from console.engine.sync import options as so
from console.engine.sync.options import SyncOptions, UnsupportedSyncOption


def res(opts: str | None, kind: str = "ConfigMap", name: str = "cm", ns: str = "prod") -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "namespace": ns}
    if opts is not None:
        md["annotations"] = {"argocd.argoproj.io/sync-options": opts}
    return {"apiVersion": "v1", "kind": kind, "metadata": md}


# --- app level ---------------------------------------------------------------------------------


def test_defaults_without_options() -> None:
    o = SyncOptions.parse([])
    assert (o.prune, o.delete, o.validate, o.prune_propagation_policy) == (
        "prune",
        "delete",
        True,
        "Foreground",
    )
    assert o.client_side_apply_migration is True
    flags = (
        o.skip_dry_run_on_missing_resource,
        o.prune_last,
        o.apply_out_of_sync_only,
        o.replace,
        o.server_side_apply,
        o.create_namespace,
        o.fail_on_shared_resource,
        o.respect_ignore_differences,
    )
    assert not any(flags)
    assert SyncOptions.parse(None).options == ()


@pytest.mark.parametrize(
    ("option", "attr", "value"),
    [
        ("Prune=false", "prune", "false"),
        ("Prune=confirm", "prune", "confirm"),
        ("Prune=true", "prune", "prune"),
        ("Delete=false", "delete", "false"),
        ("Delete=confirm", "delete", "confirm"),
        ("Delete=true", "delete", "delete"),
        ("Validate=false", "validate", False),
        ("SkipDryRunOnMissingResource=true", "skip_dry_run_on_missing_resource", True),
        ("PruneLast=true", "prune_last", True),
        ("ApplyOutOfSyncOnly=true", "apply_out_of_sync_only", True),
        ("ApplyOutOfSyncOnly=false", "apply_out_of_sync_only", False),
        ("PrunePropagationPolicy=foreground", "prune_propagation_policy", "Foreground"),
        ("PrunePropagationPolicy=background", "prune_propagation_policy", "Background"),
        ("PrunePropagationPolicy=orphan", "prune_propagation_policy", "Orphan"),
        ("Replace=true", "replace", True),
        ("Replace=false", "replace", False),
        ("ServerSideApply=true", "server_side_apply", True),
        ("CreateNamespace=true", "create_namespace", True),
        ("FailOnSharedResource=true", "fail_on_shared_resource", True),
        ("RespectIgnoreDifferences=true", "respect_ignore_differences", True),
        ("ClientSideApplyMigration=false", "client_side_apply_migration", False),
    ],
)
def test_every_app_option_parses_to_its_meaning(option: str, attr: str, value: object) -> None:
    assert getattr(SyncOptions.parse([option]), attr) == value


def test_has_is_exact_match_and_value_is_first_prefixed_entry() -> None:
    o = SyncOptions.parse(["CreateNamespace=true", "PrunePropagationPolicy=orphan", "CreateNamespace=true"])
    assert o.options == ("CreateNamespace=true", "PrunePropagationPolicy=orphan")  # de-duplicated
    assert o.has("CreateNamespace=true")
    assert not o.has("CreateNamespace")
    assert o.value("PrunePropagationPolicy") == "orphan"
    assert o.value("Prune") is None  # "PrunePropagationPolicy=" is not "Prune="


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (
            ["Foo=bar"],
            'sync option "Foo=bar" in spec.syncPolicy.syncOptions is not supported by trueup (supported there:',
        ),
        (["prune=false"], 'did you mean "Prune=false"? Sync options are case-sensitive'),
        (["Prune = false"], 'did you mean "Prune=false"?'),
        (["PrunePropagationPolicy=Foreground"], 'did you mean "PrunePropagationPolicy=foreground"?'),
        (["ServerSideApply=yes"], "is not supported by trueup"),
        ([""], 'sync option "" in spec.syncPolicy.syncOptions is not supported'),
        (
            ["Force=true"],
            "only valid in a resource's argocd.argoproj.io/sync-options annotation; for the whole "
            "Application use the sync strategy's force flag",
        ),
        (["ServerSideApply=false"], "only valid in a resource's argocd.argoproj.io/sync-options annotation"),
        (
            ["Prune=false", "Prune=confirm"],
            'sync options "Prune=false" and "Prune=confirm" in spec.syncPolicy.syncOptions contradict each other',
        ),
        (["Replace=true", "Replace=false"], "contradict each other"),
    ],
)
def test_app_rejections_name_option_and_place(options: list[str], fragment: str) -> None:
    with pytest.raises(UnsupportedSyncOption) as err:
        SyncOptions.parse(options)
    assert fragment in str(err.value)
    assert err.value.where == "spec.syncPolicy.syncOptions"


def test_operation_options_report_their_own_place() -> None:
    with pytest.raises(UnsupportedSyncOption, match=r"in operation\.sync\.syncOptions"):
        SyncOptions.parse(["Nope=true"], where="operation.sync.syncOptions")


# --- resource level ----------------------------------------------------------------------------


@pytest.mark.parametrize("option", so.RESOURCE_OPTIONS)
def test_every_resource_option_is_accepted(option: str) -> None:
    assert so.resource_options(res(option)) == (option,)


def test_resource_annotation_is_trimmed_csv_and_deduplicated() -> None:
    assert so.resource_options(res(" Prune=false , Validate=false,,Prune=false")) == (
        "Prune=false",
        "Validate=false",
    )
    assert so.resource_options(res(None)) == ()
    assert so.resource_options(None) == ()


@pytest.mark.parametrize("option", so.APP_ONLY)
def test_app_only_option_on_resource_is_rejected_naming_the_resource(option: str) -> None:
    with pytest.raises(UnsupportedSyncOption) as err:
        so.resource_options(res(option, kind="Deployment", name="web"))
    assert str(err.value) == (
        f'sync option "{option}" in annotation argocd.argoproj.io/sync-options of Deployment prod/web '
        "is only valid in an Application's spec.syncPolicy.syncOptions"
    )


def test_unknown_resource_option_is_rejected() -> None:
    with pytest.raises(UnsupportedSyncOption) as err:
        so.resource_options(res("Validate=true", kind="ClusterRole", name="admin", ns=""))
    assert (
        'sync option "Validate=true" in annotation argocd.argoproj.io/sync-options of ClusterRole admin'
        in str(err.value)
    )
    assert "supported there: Prune=false" in str(err.value)


def test_contradicting_resource_options_are_rejected() -> None:
    with pytest.raises(UnsupportedSyncOption, match="contradict each other"):
        so.resource_options(res("ServerSideApply=true,ServerSideApply=false"))


# --- precedence --------------------------------------------------------------------------------

APP_NONE = SyncOptions.parse([])


@pytest.mark.parametrize(
    ("app", "annotation", "expected"),
    [
        ([], None, "prune"),
        (["Prune=false"], None, "false"),
        (["Prune=confirm"], None, "confirm"),
        ([], "Prune=false", "false"),
        ([], "Prune=confirm", "confirm"),
        (["Prune=confirm"], "Prune=false", "false"),
        (["Prune=false"], "Prune=confirm", "confirm"),
        (["Prune=true"], "Prune=false", "false"),
    ],
)
def test_prune_mode_resource_overrides_app(app: list[str], annotation: str | None, expected: str) -> None:
    assert so.prune_mode(res(annotation), SyncOptions.parse(app)) == expected


@pytest.mark.parametrize(
    ("app", "annotation", "expected"),
    [
        ([], None, "delete"),
        (["Delete=false"], None, "false"),
        (["Delete=confirm"], "Delete=false", "false"),
        (["Delete=false"], "Delete=confirm", "confirm"),
    ],
)
def test_delete_mode_resource_overrides_app(app: list[str], annotation: str | None, expected: str) -> None:
    assert so.delete_mode(res(annotation), SyncOptions.parse(app)) == expected


@pytest.mark.parametrize(
    ("app", "annotation", "dry_run", "expected"),
    [
        ([], None, False, False),
        (["ServerSideApply=true"], None, False, True),
        ([], "ServerSideApply=true", False, True),
        (["ServerSideApply=true"], "ServerSideApply=false", False, False),
        (["ServerSideApply=true"], None, True, False),  # client-side dry-run never uses SSA
    ],
)
def test_server_side_apply_precedence(
    app: list[str], annotation: str | None, dry_run: bool, expected: bool
) -> None:
    assert so.use_server_side_apply(res(annotation), SyncOptions.parse(app), dry_run=dry_run) is expected


@pytest.mark.parametrize(
    ("app", "target_ann", "live_ann", "expected"),
    [
        ([], None, None, False),
        (["Replace=true"], None, None, True),
        ([], "Replace=true", None, True),
        ([], None, "Replace=true", True),
        (["Replace=true"], "Replace=false", None, False),
        (["Replace=false"], None, None, False),
    ],
)
def test_replace_from_target_live_or_app(
    app: list[str], target_ann: str | None, live_ann: str | None, expected: bool
) -> None:
    assert so.use_replace(res(target_ann), res(live_ann), SyncOptions.parse(app)) is expected
    if live_ann is None:
        assert so.use_replace(res(target_ann), None, SyncOptions.parse(app)) is expected


def test_force_validate_skip_dry_run_prune_last() -> None:
    assert so.use_force(res("Force=true")) and not so.use_force(res(None))
    assert so.validate(res(None), APP_NONE)
    assert not so.validate(res("Validate=false"), APP_NONE)
    assert not so.validate(res(None), SyncOptions.parse(["Validate=false"]))
    assert not so.skip_dry_run_on_missing(res(None), APP_NONE)
    assert so.skip_dry_run_on_missing(res("SkipDryRunOnMissingResource=true"), APP_NONE)
    assert so.skip_dry_run_on_missing(res(None), SyncOptions.parse(["SkipDryRunOnMissingResource=true"]))
    assert not so.prune_last(res(None), APP_NONE)
    assert so.prune_last(res("PruneLast=true"), APP_NONE)
    assert so.prune_last(None, SyncOptions.parse(["PruneLast=true"]))


def test_resolution_helpers_reject_bad_annotations() -> None:
    with pytest.raises(UnsupportedSyncOption):
        so.use_force(res("Force=yes"))
