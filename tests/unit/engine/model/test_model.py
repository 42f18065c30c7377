"""Typed model: parsing, validation errors (field path + message), round-trips, helpers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.engine.model import (
    API_VERSION,
    CONDITION_COMPARISON_ERROR,
    CONDITION_SHARED_RESOURCE_WARNING,
    Application,
    Condition,
    RetryStrategy,
    SpecError,
    default_project,
    is_error_condition,
    map_argo_api_version,
    parse_application,
    parse_applicationset,
    parse_duration,
    parse_object,
    parse_project,
    parse_sync_window,
)
from console.engine.yamlsafe import load_one


def app_obj(**spec_overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": "https://github.com/org/repo.git", "path": "guestbook"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
    }
    for key, value in spec_overrides.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "guestbook", "namespace": "trueup"},
        "spec": spec,
    }


def with_path(obj: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    target: Any = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


SRC = {"repoURL": "https://github.com/org/repo.git", "path": "p"}

# (description, object, expected field, expected message fragment)
APP_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing name", with_path(app_obj(), ["metadata"], {}), "metadata.name", "required field is missing"),
    ("no metadata", {k: v for k, v in app_obj().items() if k != "metadata"}, "metadata.name", "required"),
    (
        "bad name",
        with_path(app_obj(), ["metadata", "name"], "Guest_Book"),
        "metadata.name",
        "RFC 1123 subdomain",
    ),
    ("long name", with_path(app_obj(), ["metadata", "name"], "a" * 254), "metadata.name", "RFC 1123"),
    ("name not string", with_path(app_obj(), ["metadata", "name"], 12), "metadata.name", "must be a string"),
    ("missing project", app_obj(project=None), "spec.project", "required field is missing"),
    ("empty project", app_obj(project=""), "spec.project", "required field is missing"),
    ("missing destination", app_obj(destination=None), "spec.destination", "required field is missing"),
    (
        "destination both",
        app_obj(destination={"server": "https://x", "name": "in-cluster", "namespace": "a"}),
        "spec.destination",
        "application destination can't have both name and server defined: in-cluster https://x",
    ),
    (
        "destination neither",
        app_obj(destination={"namespace": "a"}),
        "spec.destination",
        "Destination server missing from app spec",
    ),
    (
        "destination typo",
        app_obj(destination={"sever": "https://x"}),
        "spec.destination.sever",
        "unknown field",
    ),
    ("missing repoURL", app_obj(source={"path": "x"}), "spec.source.repoURL", "required field is missing"),
    (
        "no source at all",
        app_obj(source=None),
        "spec.source",
        "one of spec.source or spec.sources is required",
    ),
    ("empty sources", app_obj(source=None, sources=[]), "spec.source", "one of spec.source or spec.sources"),
    (
        "unknown spec field",
        app_obj(sourc={"repoURL": "x"}),
        "spec.sourc",
        'unknown field (did you mean "source"?)',
    ),
    ("unknown top field", {**app_obj(), "sepc": {}}, "sepc", "unknown field"),
    (
        "source typo",
        app_obj(source={**SRC, "targetRevison": "main"}),
        "spec.source.targetRevison",
        "unknown field",
    ),
    (
        "targetRevision float",
        app_obj(source={**SRC, "targetRevision": 1.0}),
        "spec.source.targetRevision",
        "must be a string, got number (quote it in YAML)",
    ),
    (
        "sources item error",
        app_obj(source=None, sources=[SRC, {"repoURL": "https://x", "path": 3}]),
        "spec.sources[1].path",
        "must be a string, got integer",
    ),
    (
        "sources not list",
        app_obj(source=None, sources={"a": 1}),
        "spec.sources",
        "must be a list, got object",
    ),
    (
        "two tools",
        app_obj(source={**SRC, "helm": {}, "kustomize": {}}),
        "spec.source",
        "multiple application sources defined: Kustomize,Helm",
    ),
    (
        "three tools",
        app_obj(source={**SRC, "directory": {}, "plugin": {}, "helm": {}}),
        "spec.source",
        "multiple application sources defined: Helm,Directory,Plugin",
    ),
    (
        "helm unknown key",
        app_obj(source={**SRC, "helm": {"valueFile": []}}),
        "spec.source.helm.valueFile",
        "unknown field",
    ),
    (
        "helm wrong type",
        app_obj(source={**SRC, "helm": {"valueFiles": "values.yaml"}}),
        "spec.source.helm.valueFiles",
        "must be a list",
    ),
    (
        "helm list item type",
        app_obj(source={**SRC, "helm": {"valueFiles": ["a", 1]}}),
        "spec.source.helm.valueFiles[1]",
        "must be a string",
    ),
    (
        "kustomize unknown",
        app_obj(source={**SRC, "kustomize": {"prefix": "x"}}),
        "spec.source.kustomize.prefix",
        "unknown",
    ),
    (
        "plugin unknown",
        app_obj(source={**SRC, "plugin": {"nam": "x"}}),
        "spec.source.plugin.nam",
        "unknown field",
    ),
    (
        "directory unknown",
        app_obj(source={**SRC, "directory": {"recursive": True}}),
        "spec.source.directory.recursive",
        "unknown",
    ),
    (
        "directory recurse type",
        app_obj(source={**SRC, "directory": {"recurse": "yes"}}),
        "spec.source.directory.recurse",
        "must be a boolean, got string",
    ),
    (
        "jsonnet unknown",
        app_obj(source={**SRC, "directory": {"jsonnet": {"extvars": []}}}),
        "spec.source.directory.jsonnet.extvars",
        "unknown field",
    ),
    (
        "ref with chart",
        app_obj(source={**SRC, "ref": "v", "chart": "c"}),
        "spec.source.ref",
        "cannot also set 'chart'",
    ),
    (
        "retry limit string",
        app_obj(syncPolicy={"retry": {"limit": "5"}}),
        "spec.syncPolicy.retry.limit",
        "must be an integer, got string",
    ),
    (
        "retry limit bool",
        app_obj(syncPolicy={"retry": {"limit": True}}),
        "spec.syncPolicy.retry.limit",
        "must be an integer",
    ),
    (
        "backoff duration bad",
        app_obj(syncPolicy={"retry": {"backoff": {"duration": "5 minutes"}}}),
        "spec.syncPolicy.retry.backoff.duration",
        "cannot parse duration '5 minutes'",
    ),
    (
        "backoff maxDuration negative",
        app_obj(syncPolicy={"retry": {"backoff": {"maxDuration": "-3m"}}}),
        "spec.syncPolicy.retry.backoff.maxDuration",
        "cannot parse duration",
    ),
    (
        "backoff factor zero",
        app_obj(syncPolicy={"retry": {"backoff": {"factor": 0}}}),
        "spec.syncPolicy.retry.backoff.factor",
        "must be at least 1",
    ),
    (
        "backoff typo",
        app_obj(syncPolicy={"retry": {"backoff": {"maxduration": "3m"}}}),
        "spec.syncPolicy.retry.backoff.maxduration",
        'did you mean "maxDuration"',
    ),
    (
        "automated typo",
        app_obj(syncPolicy={"automated": {"selfheal": True}}),
        "spec.syncPolicy.automated.selfheal",
        'unknown field (did you mean "selfHeal"?)',
    ),
    (
        "automated prune string",
        app_obj(syncPolicy={"automated": {"prune": "true"}}),
        "spec.syncPolicy.automated.prune",
        "must be a boolean",
    ),
    (
        "syncOptions not strings",
        app_obj(syncPolicy={"syncOptions": ["A=true", {"b": 1}]}),
        "spec.syncPolicy.syncOptions[1]",
        "must be a string",
    ),
    (
        "managedNamespaceMetadata label value",
        app_obj(syncPolicy={"managedNamespaceMetadata": {"labels": {"a": 1}}}),
        "spec.syncPolicy.managedNamespaceMetadata.labels.a",
        "must be a string",
    ),
    (
        "revisionHistoryLimit negative",
        app_obj(revisionHistoryLimit=-1),
        "spec.revisionHistoryLimit",
        "must be greater than or equal to 0",
    ),
    (
        "revisionHistoryLimit type",
        app_obj(revisionHistoryLimit="10"),
        "spec.revisionHistoryLimit",
        "must be an integer",
    ),
    (
        "ignoreDifferences kind missing",
        app_obj(ignoreDifferences=[{"group": "apps", "jsonPointers": ["/spec/replicas"]}]),
        "spec.ignoreDifferences[0].kind",
        "required field is missing",
    ),
    (
        "ignoreDifferences typo",
        app_obj(ignoreDifferences=[{"kind": "Deployment", "jsonPointer": ["/spec"]}]),
        "spec.ignoreDifferences[0].jsonPointer",
        "unknown field",
    ),
    ("info typo", app_obj(info=[{"name": "a", "val": "b"}]), "spec.info[0].val", "unknown field"),
    ("spec not object", with_path(app_obj(), ["spec"], ["x"]), "spec", "must be an object, got list"),
    ("wrong kind", with_path(app_obj(), ["kind"], "AppProject"), "kind", "must be Application"),
    (
        "wrong apiVersion",
        with_path(app_obj(), ["apiVersion"], "argoproj.io/v1beta1"),
        "apiVersion",
        "must be trueup.dev",
    ),
    (
        "bad sync status",
        {**app_obj(), "status": {"sync": {"status": "Sinced"}}},
        "status.sync.status",
        "unsupported value 'Sinced'",
    ),
    (
        "bad health status",
        {**app_obj(), "status": {"health": {"status": "OK"}}},
        "status.health.status",
        "unsupported",
    ),
    (
        "bad op phase",
        {**app_obj(), "status": {"operationState": {"phase": "Done"}}},
        "status.operationState.phase",
        "unsupported value 'Done'",
    ),
    ("operation not object", {**app_obj(), "operation": "sync"}, "operation", "must be an object"),
    (
        "snake_case key",
        app_obj(source={"repo_url": "https://x", "path": "p"}),
        "spec.source.repo_url",
        'unknown field (did you mean "repoURL"?)',
    ),
    (
        "typo reported before the field it hides",
        app_obj(project=None, projet="default"),
        "spec.projet",
        'unknown field (did you mean "project"?)',
    ),
    (
        "namespace not string",
        with_path(app_obj(), ["metadata", "namespace"], 5),
        "metadata.namespace",
        "must be a string, got integer (quote it in YAML)",
    ),
    (
        "namespace bad",
        with_path(app_obj(), ["metadata", "namespace"], "Team_A"),
        "metadata.namespace",
        "RFC 1123",
    ),
    (
        "sources item null",
        app_obj(source=None, sources=[SRC, None]),
        "spec.sources[1]",
        "must be an object, got null",
    ),
    (
        "hydrator part not object",
        app_obj(source=None, sourceHydrator={"drySource": "https://x"}),
        "spec.sourceHydrator.drySource",
        "must be an object, got string",
    ),
    (
        "template expression outside an ApplicationSet",
        app_obj(syncPolicy={"retry": {"backoff": {"duration": "{{.backoff}}"}}}),
        "spec.syncPolicy.retry.backoff.duration",
        "cannot parse duration '{{.backoff}}'",
    ),
    (
        "status history id type",
        {**app_obj(), "status": {"history": [{"id": "7"}]}},
        "status.history[0].id",
        "must be an integer, got string",
    ),
]


@pytest.mark.parametrize(("desc", "obj", "field", "message"), APP_ERRORS, ids=[e[0] for e in APP_ERRORS])
def test_application_validation_errors(desc: str, obj: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_application(obj)
    assert info.value.field == field
    assert message in info.value.message
    assert info.value.kind == "Application"
    assert str(info.value).endswith(f": {field}: {info.value.message}")


def test_spec_error_str_names_kind_and_object() -> None:
    with pytest.raises(SpecError) as info:
        parse_application(app_obj(project=None))
    assert str(info.value) == "Application guestbook: spec.project: required field is missing"


FULL_APP_YAML = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: payments
  namespace: team-a
  labels: {tier: backend}
  annotations: {argocd.argoproj.io/refresh: hard}
  finalizers: [resources-finalizer.argocd.argoproj.io]
  resourceVersion: "1234"
  uid: 0b7f3c1e-0000-4000-8000-000000000001
spec:
  project: payments
  sources:
    - repoURL: https://charts.example.com
      chart: payments
      targetRevision: 1.2.3
      helm:
        valueFiles: [$values/envs/prod.yaml]
        parameters: [{name: image.tag, value: v2}]
        releaseName: payments
        valuesObject: {replicaCount: 3}
    - repoURL: git@github.com:org/config.git
      ref: values
    - repoURL: https://github.com/org/manifests
      path: overlays/prod
      targetRevision: main
      kustomize: {namePrefix: prod-, images: ["app=registry/app:v2"]}
    - repoURL: https://github.com/org/raw
      path: raw
      directory: {recurse: true, include: "*.yaml", jsonnet: {libs: [vendor]}}
  destination: {name: prod-eu, namespace: payments}
  syncPolicy:
    automated: {prune: true, selfHeal: true, enabled: false}
    syncOptions: [CreateNamespace=true, PrunePropagationPolicy=background, ServerSideApply=true]
    retry: {limit: -1, backoff: {duration: "10", factor: 3, maxDuration: 1h30m}, refresh: true}
    managedNamespaceMetadata: {labels: {team: a}}
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers: [/spec/replicas]
      managedFieldsManagers: [kube-controller-manager]
  info: [{name: owner, value: team-a}]
  revisionHistoryLimit: 3
status:
  sync: {status: OutOfSync, revisions: [abc, def], comparedTo: {destination: {name: prod-eu}}}
  health: {status: Degraded, message: "Caused by apps/Deployment:payments/api"}
  conditions:
    - {type: SyncError, message: boom, lastTransitionTime: "2024-05-01T10:00:00Z"}
  operationState:
    operation: {sync: {revisions: [abc]}}
    phase: Failed
    message: one or more objects failed to apply
    startedAt: "2024-05-01T10:00:00Z"
    finishedAt: "2024-05-01T10:01:00Z"
    retryCount: 2
    futureField: kept
  history:
    - {id: 7, revisions: [abc], deployedAt: "2024-05-01T09:00:00Z", initiatedBy: {username: alice}}
  resources:
    - {group: apps, version: v1, kind: Deployment, namespace: payments, name: api, status: OutOfSync,
       health: {status: Degraded}, syncWave: -1, requiresPruning: false, newThing: 1}
  reconciledAt: "2024-05-01T10:02:00Z"
  sourceTypes: [Helm, Kustomize, Directory]
  summary: {images: [registry/app:v2]}
  someFutureStatus: {x: 1}
operation:
  sync: {revisions: [abc], prune: true}
  initiatedBy: {username: alice}
"""


def test_full_application_parses_and_round_trips() -> None:
    app = parse_application(load_one(FULL_APP_YAML, "app.yaml"))
    assert app.name == "payments"
    assert app.namespace == "team-a"
    assert app.instance_name == "team-a_payments"
    assert app.metadata["resourceVersion"] == "1234"
    assert app.metadata["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    srcs = app.sources_list()
    assert [s.explicit_type() for s in srcs] == ["Helm", None, "Kustomize", "Directory"]
    assert srcs[0].target_revision == "1.2.3"
    assert srcs[1].target_revision == "HEAD"
    assert srcs[1].ref == "values"
    assert srcs[3].directory is not None and srcs[3].directory.recurse
    assert app.spec.destination.name == "prod-eu"
    # automated present but enabled: false => not automated
    assert app.is_automated() is False
    assert app.has_sync_option("ServerSideApply=true")
    assert not app.has_sync_option("ServerSideApply")
    assert app.sync_option_value("PrunePropagationPolicy") == "background"
    assert app.sync_option_value("Replace") is None
    assert app.spec.effective_revision_history_limit() == 3
    st_ = app.status
    assert st_.sync.status == "OutOfSync" and st_.sync.revisions == ["abc", "def"]
    assert st_.health.status == "Degraded"
    assert st_.conditions[0] == Condition("SyncError", "boom", "2024-05-01T10:00:00Z")
    assert st_.operation_state is not None and st_.operation_state.retry_count == 2
    assert st_.operation_state.is_completed()
    assert st_.history[0].id == 7 and st_.history[0].initiated_by == {"username": "alice"}
    assert st_.resources[0].sync_wave == -1 and st_.resources[0].health is not None
    assert app.operation == {
        "sync": {"revisions": ["abc"], "prune": True},
        "initiatedBy": {"username": "alice"},
    }

    out = app.to_dict()
    assert out["apiVersion"] == API_VERSION
    # unknown status keys survive at every level
    assert out["status"]["someFutureStatus"] == {"x": 1}
    assert out["status"]["operationState"]["futureField"] == "kept"
    assert out["status"]["resources"][0]["newThing"] == 1
    again = parse_application(out)
    assert again == app
    assert again.to_dict() == out


def test_canonical_form_omits_defaults_and_keeps_meaningful_presence() -> None:
    obj = app_obj(
        source={**SRC, "targetRevision": "HEAD", "directory": {}},
        syncPolicy={"automated": {}, "syncOptions": []},
    )
    app = parse_application(obj)
    assert app.is_automated()
    spec = app.to_dict()["spec"]
    assert spec["source"] == {"repoURL": SRC["repoURL"], "path": "p", "directory": {}}
    assert spec["syncPolicy"] == {"automated": {}}
    assert "status" not in app.to_dict()


def test_chart_source_has_no_implicit_head() -> None:
    app = parse_application(app_obj(source={"repoURL": "https://charts.example.com", "chart": "nginx"}))
    assert app.spec.source is not None
    assert app.spec.source.target_revision == ""
    assert parse_application(app.to_dict()) == app


def test_empty_target_revision_means_head_for_git() -> None:
    app = parse_application(app_obj(source={**SRC, "targetRevision": ""}))
    assert app.spec.source is not None and app.spec.source.target_revision == "HEAD"


def test_sources_win_over_source() -> None:
    app = parse_application(app_obj(sources=[{"repoURL": "https://a", "path": "x"}]))
    assert [s.repo_url for s in app.sources_list()] == ["https://a"]
    assert app.spec.source is not None  # kept, just ignored
    assert parse_application(app.to_dict()) == app


@pytest.mark.parametrize(
    ("automated", "expected"),
    [
        (None, False),
        ({}, True),
        ({"enabled": True}, True),
        ({"enabled": False}, False),
        ({"prune": True}, True),
    ],
)
def test_is_automated(automated: dict[str, Any] | None, expected: bool) -> None:
    policy = {} if automated is None else {"automated": automated}
    assert parse_application(app_obj(syncPolicy=policy)).is_automated() is expected


def test_is_automated_without_sync_policy() -> None:
    assert parse_application(app_obj()).is_automated() is False


def test_instance_name_in_control_namespace() -> None:
    app = parse_application(app_obj())
    assert app.instance_name == "guestbook"
    no_ns = parse_application(with_path(app_obj(), ["metadata"], {"name": "guestbook"}))
    assert no_ns.instance_name == "guestbook" and no_ns.namespace == "trueup"


def test_map_argo_api_version() -> None:
    for kind in ("Application", "AppProject", "ApplicationSet"):
        obj: dict[str, Any] = {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}}
        mapped = map_argo_api_version(obj)
        assert mapped["apiVersion"] == "trueup.dev/v1alpha1"
        assert obj["apiVersion"] == "argoproj.io/v1alpha1"  # input untouched
    others: list[dict[str, Any]] = [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"},
        {"apiVersion": "apps/v1", "kind": "Deployment"},
        {"apiVersion": "argoproj.io/v1beta1", "kind": "Application"},
    ]
    for other in others:
        assert map_argo_api_version(other) == other


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5s", 5.0),
        ("3m", 180.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("300ms", 0.3),
        ("2m3.5s", 123.5),
        ("90", 90.0),
        (90, 90.0),
        ("0", 0.0),
        ("+10s", 10.0),
    ],
)
def test_parse_duration(value: str | int, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "5 s", "5x", "s", "-5s", "1h-3m", "abc", True, "1d"])
def test_parse_duration_rejects(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_parse_duration_strict_go_mode() -> None:
    assert parse_duration("1h", bare_seconds=False) == 3600
    assert parse_duration("0", bare_seconds=False) == 0
    with pytest.raises(ValueError, match="missing unit"):
        parse_duration("90", bare_seconds=False)
    with pytest.raises(ValueError):
        parse_duration(90, bare_seconds=False)


def test_retry_defaults_and_delays() -> None:
    retry = RetryStrategy(limit=3)
    assert [retry.next_retry_delay(n) for n in range(7)] == [5, 10, 20, 40, 80, 160, 180]
    app = parse_application(
        app_obj(
            syncPolicy={
                "retry": {"limit": 2, "backoff": {"duration": "10", "factor": 3, "maxDuration": "1m"}}
            }
        )
    )
    assert app.spec.sync_policy is not None and app.spec.sync_policy.retry is not None
    r = app.spec.sync_policy.retry
    assert [r.next_retry_delay(n) for n in range(4)] == [10, 30, 60, 60]
    assert r.allows_retry(1) and not r.allows_retry(2)
    assert RetryStrategy(limit=-1).allows_retry(10_000)
    assert not RetryStrategy(limit=0).allows_retry(0)
    # huge retry counts do not overflow
    assert RetryStrategy().next_retry_delay(100_000) == 180


def test_retry_max_duration_zero_disables_cap() -> None:
    app = parse_application(
        app_obj(syncPolicy={"retry": {"backoff": {"duration": "1s", "maxDuration": "0"}}})
    )
    assert app.spec.sync_policy is not None and app.spec.sync_policy.retry is not None
    assert app.spec.sync_policy.retry.next_retry_delay(10) == 1024


def test_conditions() -> None:
    assert is_error_condition("InvalidSpecError")
    assert is_error_condition(Condition(CONDITION_COMPARISON_ERROR, "x"))
    assert not is_error_condition(CONDITION_SHARED_RESOURCE_WARNING)
    app = parse_application(
        {
            **app_obj(),
            "status": {
                "conditions": [
                    {"type": "ComparisonError", "message": "a"},
                    {"type": "OrphanedResourceWarning", "message": "b"},
                ]
            },
        }
    )
    assert [c.type for c in app.status.error_conditions()] == ["ComparisonError"]


# ---------------------------------------------------------------------------------- AppProject

PROJECT_YAML = """
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: payments, namespace: trueup}
spec:
  description: Payments team
  sourceRepos: ["https://github.com/org/*", "!https://github.com/org/secret"]
  sourceNamespaces: [team-a, "/^team-.*$/"]
  destinations:
    - {server: https://kubernetes.default.svc, namespace: "payments-*"}
    - {name: prod-eu, namespace: "!kube-system"}
  destinationServiceAccounts: [{server: "*", namespace: payments, defaultServiceAccount: deployer}]
  clusterResourceWhitelist: [{group: "", kind: Namespace}, {group: rbac.authorization.k8s.io, kind: ClusterRole, name: "payments-*"}]
  clusterResourceBlacklist: []
  namespaceResourceWhitelist: []
  namespaceResourceBlacklist: [{group: "", kind: ResourceQuota}]
  orphanedResources: {warn: true, ignore: [{kind: ConfigMap, name: "kube-*"}]}
  syncWindows:
    - {kind: deny, schedule: "0 22 * * *", duration: 8h, applications: ["*"], manualSync: true, timeZone: Europe/Berlin}
    - {kind: allow, schedule: "0 9 * * 1-5", duration: 8h, namespaces: [payments-prod], clusters: [prod-eu], andOperator: true}
  roles:
    - {name: deployer, description: CI, policies: ["p, proj:payments:deployer, applications, sync, payments/*, allow"], groups: [ci]}
  permitOnlyProjectScopedClusters: true
status: {jwtTokensByRole: {}}
"""


def test_project_parses_and_round_trips() -> None:
    proj = parse_project(load_one(PROJECT_YAML, "proj.yaml"))
    s = proj.spec
    assert proj.name == "payments"
    assert s.source_repos[1] == "!https://github.com/org/secret"
    assert s.destinations[1].name == "prod-eu"
    assert s.namespace_resource_whitelist == []  # empty, not None
    assert s.cluster_resource_whitelist is not None and s.cluster_resource_whitelist[1].name == "payments-*"
    assert s.orphaned_resources is not None and s.orphaned_resources.warn is True
    assert s.sync_windows[0].manual_sync and s.sync_windows[0].time_zone == "Europe/Berlin"
    assert s.sync_windows[1].and_operator
    assert s.roles[0].groups == ["ci"]
    assert s.permit_only_project_scoped_clusters
    out = proj.to_dict()
    assert out["spec"]["namespaceResourceWhitelist"] == []
    assert out["spec"]["clusterResourceBlacklist"] == []
    assert parse_project(out) == proj


def test_project_nil_vs_empty_whitelist_distinguishable() -> None:
    base = {"apiVersion": "trueup.dev/v1alpha1", "kind": "AppProject", "metadata": {"name": "p"}, "spec": {}}
    nil = parse_project(base)
    empty = parse_project(with_path(base, ["spec"], {"namespaceResourceWhitelist": []}))
    assert nil.spec.namespace_resource_whitelist is None
    assert empty.spec.namespace_resource_whitelist == []
    assert "namespaceResourceWhitelist" not in nil.to_dict()["spec"]
    assert parse_project(empty.to_dict()).spec.namespace_resource_whitelist == []


def proj_obj(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "team"},
        "spec": spec,
    }


WINDOW = {"kind": "allow", "schedule": "0 9 * * *", "duration": "1h", "applications": ["*"]}

PROJECT_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "!* repo",
        proj_obj(sourceRepos=["a", "!*"]),
        "spec.sourceRepos[1]",
        "source repository has an invalid format, '!*'",
    ),
    (
        "!* server",
        proj_obj(destinations=[{"server": "!*", "namespace": "a"}]),
        "spec.destinations[0].server",
        "server has an invalid format, '!*'",
    ),
    (
        "!* name",
        proj_obj(destinations=[{"name": "!*", "namespace": "a"}]),
        "spec.destinations[0].name",
        "name has an invalid format",
    ),
    (
        "!* namespace",
        proj_obj(destinations=[{"server": "*", "namespace": "!*"}]),
        "spec.destinations[0].namespace",
        "namespace has an invalid format, '!*'",
    ),
    ("spec typo", proj_obj(sourceRepo=["*"]), "spec.sourceRepo", 'did you mean "sourceRepos"'),
    ("repos not list", proj_obj(sourceRepos="*"), "spec.sourceRepos", "must be a list, got string"),
    (
        "whitelist kind missing",
        proj_obj(clusterResourceWhitelist=[{"group": "*"}]),
        "spec.clusterResourceWhitelist[0].kind",
        "required",
    ),
    (
        "ns whitelist name",
        proj_obj(namespaceResourceWhitelist=[{"group": "", "kind": "Pod", "name": "x"}]),
        "spec.namespaceResourceWhitelist[0].name",
        "unknown field",
    ),
    (
        "window kind",
        proj_obj(syncWindows=[{**WINDOW, "kind": "block"}]),
        "spec.syncWindows[0].kind",
        "kind 'block' mismatch: can only be allow or deny",
    ),
    (
        "window cron 6 fields",
        proj_obj(syncWindows=[{**WINDOW, "schedule": "0 0 9 * * *"}]),
        "spec.syncWindows[0].schedule",
        "cannot parse schedule '0 0 9 * * *': expected exactly 5 fields, found 6",
    ),
    (
        "window cron invalid",
        proj_obj(syncWindows=[{**WINDOW, "schedule": "61 * * * *"}]),
        "spec.syncWindows[0].schedule",
        "cannot parse schedule",
    ),
    (
        "window cron descriptor",
        proj_obj(syncWindows=[{**WINDOW, "schedule": "@daily"}]),
        "spec.syncWindows[0].schedule",
        "expected exactly 5 fields",
    ),
    (
        "window duration",
        proj_obj(syncWindows=[{**WINDOW, "duration": "1 hour"}]),
        "spec.syncWindows[0].duration",
        "cannot parse duration '1 hour'",
    ),
    (
        "window duration bare",
        proj_obj(syncWindows=[{**WINDOW, "duration": "3600"}]),
        "spec.syncWindows[0].duration",
        "missing unit",
    ),
    (
        "window duration missing",
        proj_obj(syncWindows=[{k: v for k, v in WINDOW.items() if k != "duration"}]),
        "spec.syncWindows[0].duration",
        "cannot parse duration ''",
    ),
    (
        "window no selectors",
        proj_obj(syncWindows=[{"kind": "deny", "schedule": "* * * * *", "duration": "1h"}]),
        "spec.syncWindows[0]",
        "window 'deny':'* * * * *':'1h' requires one of application, cluster or namespace",
    ),
    (
        "window typo",
        proj_obj(syncWindows=[{**WINDOW, "timezone": "UTC"}]),
        "spec.syncWindows[0].timezone",
        'did you mean "timeZone"',
    ),
    (
        "window manualSync type",
        proj_obj(syncWindows=[{**WINDOW, "manualSync": "yes"}]),
        "spec.syncWindows[0].manualSync",
        "must be a boolean",
    ),
    (
        "role name",
        proj_obj(roles=[{"name": "-bad"}]),
        "spec.roles[0].name",
        "invalid role name '-bad'. Must consist of alphanumeric characters, '-' or '_', and must start and end with an alphanumeric character",
    ),
    (
        "role duplicate",
        proj_obj(roles=[{"name": "a"}, {"name": "a"}]),
        "spec.roles[1].name",
        "role 'a' already exists",
    ),
    (
        "orphaned typo",
        proj_obj(orphanedResources={"warning": True}),
        "spec.orphanedResources.warning",
        "unknown field",
    ),
    ("project bad name", with_path(proj_obj(), ["metadata", "name"], "Team"), "metadata.name", "RFC 1123"),
    (
        "!* service account server",
        proj_obj(destinationServiceAccounts=[{"server": "!*", "namespace": "a"}]),
        "spec.destinationServiceAccounts[0].server",
        "server has an invalid format, '!*'",
    ),
    (
        "service account typo",
        proj_obj(destinationServiceAccounts=[{"defaultServiceAcount": "x"}]),
        "spec.destinationServiceAccounts[0].defaultServiceAcount",
        'did you mean "defaultServiceAccount"',
    ),
    (
        "orphaned ignore typo",
        proj_obj(orphanedResources={"ignore": [{"knd": "ConfigMap"}]}),
        "spec.orphanedResources.ignore[0].knd",
        'did you mean "kind"',
    ),
]


@pytest.mark.parametrize(
    ("desc", "obj", "field", "message"), PROJECT_ERRORS, ids=[e[0] for e in PROJECT_ERRORS]
)
def test_project_validation_errors(desc: str, obj: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_project(obj)
    assert info.value.field == field
    assert message in info.value.message
    assert info.value.kind == "AppProject"


def test_default_project() -> None:
    proj = default_project()
    d = proj.to_dict()
    assert d["metadata"]["name"] == "default"
    assert d["spec"] == {
        "sourceRepos": ["*"],
        "destinations": [{"server": "*", "namespace": "*"}],
        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
    }
    assert parse_project(d) == proj


# ------------------------------------------------------------------------------ ApplicationSet

APPSET_YAML = """
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: guestbook}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - matrix:
        generators:
          - git:
              repoURL: https://github.com/org/apps.git
              revision: HEAD
              directories: [{path: "apps/*"}]
          - clusters: {selector: {matchLabels: {env: prod}}}
    - list:
        elements: [{cluster: dev, url: "https://dev"}]
      selector: {matchLabels: {cluster: dev}}
  template:
    metadata: {name: "{{.path.basename}}-{{.name}}", labels: {team: a}}
    spec:
      project: "{{.project}}"
      source: {repoURL: https://github.com/org/apps.git, targetRevision: HEAD, path: "{{.path.path}}"}
      destination: {server: "{{.server}}", namespace: "{{.path.basename}}"}
      syncPolicy:
        automated: {prune: true}
        retry: {limit: 2, backoff: {duration: "{{.backoff}}"}}
  syncPolicy: {applicationsSync: create-update, preserveResourcesOnDeletion: true}
  strategy:
    type: RollingSync
    rollingSync:
      steps:
        - matchExpressions: [{key: env, operator: In, values: [dev]}]
        - matchExpressions: [{key: env, operator: In, values: [prod]}]
          maxUpdate: 10%
  preservedFields: {annotations: [notes]}
  ignoreApplicationDifferences: [{jsonPointers: [/spec/source/targetRevision]}]
"""


def test_applicationset_parses_and_round_trips() -> None:
    aset = parse_applicationset(load_one(APPSET_YAML, "appset.yaml"))
    assert aset.name == "guestbook"
    assert aset.spec.go_template
    assert aset.spec.applications_sync() == "create-update"
    assert aset.spec.template.spec.project == "{{.project}}"
    assert aset.spec.template.spec.destination.server == "{{.server}}"
    assert len(aset.spec.generators) == 2
    assert parse_applicationset(aset.to_dict()) == aset
    assert isinstance(parse_object(aset.to_dict()), type(aset))


def appset_obj(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "generators": [{"list": {"elements": []}}],
        "template": {
            "metadata": {"name": "{{name}}"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://x", "path": "p"},
                "destination": {"server": "{{server}}", "namespace": "a"},
            },
        },
    }
    base.update(spec)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "s"},
        "spec": base,
    }


APPSET_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "no generators",
        {**appset_obj(), "spec": {"template": appset_obj()["spec"]["template"]}},
        "spec.generators",
        "required",
    ),
    ("empty generator", appset_obj(generators=[{}]), "spec.generators[0]", "generator is empty"),
    (
        "two generators",
        appset_obj(generators=[{"list": {}, "git": {}}]),
        "spec.generators[0]",
        "more than one generator defined: list, git",
    ),
    (
        "unknown generator",
        appset_obj(generators=[{"lists": {}}]),
        "spec.generators[0].lists",
        'did you mean "list"',
    ),
    (
        "matrix three",
        appset_obj(generators=[{"matrix": {"generators": [{"list": {}}, {"list": {}}, {"list": {}}]}}]),
        "spec.generators[0].matrix.generators",
        "found more than two generators, Matrix support only two",
    ),
    (
        "matrix one",
        appset_obj(generators=[{"matrix": {"generators": [{"list": {}}]}}]),
        "spec.generators[0].matrix.generators",
        "found less than two generators",
    ),
    (
        "merge child bad",
        appset_obj(generators=[{"merge": {"generators": [{"list": {}}, {"bogus": {}}]}}]),
        "spec.generators[0].merge.generators[1].bogus",
        "unknown field",
    ),
    (
        "no template",
        {**appset_obj(), "spec": {"generators": []}},
        "spec.template",
        "required field is missing",
    ),
    (
        "template typo",
        appset_obj(
            template={"metadata": {}, "spec": {"project": "p", "destination": {"server": "s"}, "sourc": {}}}
        ),
        "spec.template.spec.sourc",
        "unknown field",
    ),
    (
        "template no project",
        appset_obj(template={"metadata": {}, "spec": {"destination": {"server": "s"}}}),
        "spec.template.spec.project",
        "required field is missing",
    ),
    (
        "bad applicationsSync",
        appset_obj(syncPolicy={"applicationsSync": "create"}),
        "spec.syncPolicy.applicationsSync",
        "unsupported value 'create'",
    ),
    (
        "bad strategy",
        appset_obj(strategy={"type": "Rolling"}),
        "spec.strategy.type",
        "must be one of AllAtOnce, RollingSync",
    ),
    (
        "bad operator",
        appset_obj(
            strategy={
                "type": "RollingSync",
                "rollingSync": {"steps": [{"matchExpressions": [{"key": "a", "operator": "Exists"}]}]},
            }
        ),
        "spec.strategy.rollingSync.steps[0].matchExpressions[0].operator",
        "must be one of In, NotIn",
    ),
    ("goTemplate type", appset_obj(goTemplate="true"), "spec.goTemplate", "must be a boolean"),
    (
        "combination nested too deep",
        appset_obj(
            generators=[
                {
                    "matrix": {
                        "generators": [
                            {
                                "matrix": {
                                    "generators": [{"merge": {"generators": [{"list": {}}]}}, {"list": {}}]
                                }
                            },
                            {"list": {}},
                        ]
                    }
                }
            ]
        ),
        "spec.generators[0].matrix.generators[0].matrix.generators[0].merge",
        "combination generators may nest only one level deep",
    ),
    (
        "matrix without generators",
        appset_obj(generators=[{"matrix": {}}]),
        "spec.generators[0].matrix.generators",
        "required field is missing",
    ),
    (
        "template helm list given a plain string",
        appset_obj(
            template={
                "metadata": {},
                "spec": {
                    "project": "p",
                    "destination": {"server": "s"},
                    "source": {"repoURL": "https://x", "helm": {"valueFiles": "values.yaml"}},
                },
            }
        ),
        "spec.template.spec.source.helm.valueFiles",
        "must be a list, got string",
    ),
    (
        "template label not string",
        appset_obj(
            template={"metadata": {"labels": {"tier": 1}}, "spec": {"project": "p", "destination": {}}}
        ),
        "spec.template.metadata.labels.tier",
        "must be a string, got integer",
    ),
    (
        "bad deletionOrder",
        appset_obj(strategy={"deletionOrder": "Forward"}),
        "spec.strategy.deletionOrder",
        "unsupported value 'Forward': must be one of AllAtOnce, Reverse",
    ),
]


@pytest.mark.parametrize(
    ("desc", "obj", "field", "message"), APPSET_ERRORS, ids=[e[0] for e in APPSET_ERRORS]
)
def test_applicationset_validation_errors(desc: str, obj: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_applicationset(obj)
    assert info.value.field == field
    assert message in info.value.message


def _templated_source(**source: Any) -> dict[str, Any]:
    return appset_obj(
        template={
            "metadata": {"name": "{{.name}}"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://x", **source},
                "destination": {
                    "server": "{{.server}}",
                    "name": "{{.name}}",
                },  # both: the generated apps decide
            },
        }
    )


# (description, parser, object, a dotted path into to_dict() and the value expected there)
ACCEPTED: list[tuple[str, Any, dict[str, Any], str, Any]] = [
    (
        "null is absent",
        parse_application,
        with_path(app_obj(), ["metadata", "namespace"], None),
        "metadata.name",
        "guestbook",
    ),
    (
        "null list is empty",
        parse_application,
        app_obj(info=None, syncPolicy={"syncOptions": None}),
        "spec.syncPolicy",
        {},
    ),
    (
        "nulls inside free-form values are kept",
        parse_application,
        app_obj(source={**SRC, "helm": {"valuesObject": {"replicas": None}, "skipCrds": False}}),
        "spec.source.helm",
        {"valuesObject": {"replicas": None}, "skipCrds": False},
    ),
    (
        "backoff duration empty means the default (as Argo)",
        parse_application,
        app_obj(syncPolicy={"retry": {"backoff": {"duration": ""}}}),
        "spec.syncPolicy.retry.backoff",
        {},
    ),
    (
        "bare-second backoff",
        parse_application,
        app_obj(syncPolicy={"retry": {"backoff": {"duration": 90}}}),
        "spec.syncPolicy.retry.backoff.duration",
        "90",
    ),
    (
        "chart at HEAD keeps its revision",
        parse_application,
        app_obj(source={"repoURL": "https://charts.example.com", "chart": "c", "targetRevision": "HEAD"}),
        "spec.source.targetRevision",
        "HEAD",
    ),
    (
        "template expressions where values are substituted",
        parse_applicationset,
        _templated_source(
            helm={"valueFiles": "{{.files}}", "skipCrds": "{{.skip}}", "parameters": ["{{.p}}"]}
        ),
        "spec.template.spec.source.helm",
        {"valueFiles": "{{.files}}", "skipCrds": "{{.skip}}", "parameters": ["{{.p}}"]},
    ),
    (
        "combination generators keep their other keys",
        parse_applicationset,
        appset_obj(generators=[{"merge": {"generators": [{"list": {}}], "mergeKeys": ["server"]}}]),
        "spec.generators",
        [{"merge": {"generators": [{"list": {}}], "mergeKeys": ["server"]}}],
    ),
    (
        "status keys from a newer controller are kept",
        parse_application,
        {**app_obj(), "status": {"sync": {"status": "Synced", "newField": [1]}, "later": {"x": 1}}},
        "status",
        {"sync": {"status": "Synced", "newField": [1]}, "later": {"x": 1}},
    ),
]


@pytest.mark.parametrize(("desc", "parse", "obj", "path", "expected"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_and_canonical(desc: str, parse: Any, obj: dict[str, Any], path: str, expected: Any) -> None:
    parsed = parse(obj)
    value: Any = parsed.to_dict()
    for key in path.split("."):
        value = value[key]
    assert value == expected
    assert parse(parsed.to_dict()) == parsed


def test_parsed_model_shares_no_state_with_its_input() -> None:
    obj = app_obj(source={**SRC, "helm": {"valuesObject": {"a": {"b": 1}}}})
    obj["metadata"]["labels"] = {"team": "a"}
    pristine = copy.deepcopy(obj)
    app = parse_application(obj)
    assert obj == pristine
    app.metadata["labels"]["team"] = "b"
    assert app.spec.source is not None and app.spec.source.helm is not None
    assert app.spec.source.helm.values_object is not None
    app.spec.source.helm.values_object["a"]["b"] = 2
    assert obj == pristine


def test_parse_sync_window_requires_a_selector() -> None:
    with pytest.raises(SpecError) as info:
        parse_sync_window({"kind": "deny", "schedule": "* * * * *", "duration": "1h"}, "team")
    assert (info.value.kind, info.value.name, info.value.field) == ("AppProject", "team", "syncWindow")
    assert "requires one of application, cluster or namespace" in info.value.message
    with pytest.raises(SpecError) as info:
        parse_sync_window({**WINDOW, "schedul": "* * * * *"})
    assert info.value.field == "syncWindow.schedul"
    assert info.value.message == 'unknown field (did you mean "schedule"?)'


def test_parse_object_dispatch_and_unknown_kind() -> None:
    assert isinstance(parse_object(app_obj()), Application)
    with pytest.raises(SpecError) as info:
        parse_object({"kind": "Deployment"})
    assert info.value.field == "kind"


# ------------------------------------------------------------------------------ property tests

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@given(
    name=_names,
    repo=st.from_regex(r"https://[a-z]{1,8}\.example/[a-z]{1,8}/[a-z]{1,8}", fullmatch=True),
    path=_text,
    rev=st.one_of(st.just(""), _names),
    ns=_names,
    options=st.lists(_text, max_size=3),
    automated=st.one_of(
        st.none(), st.fixed_dictionaries({}, optional={"prune": st.booleans(), "enabled": st.booleans()})
    ),
    limit=st.one_of(st.none(), st.integers(min_value=0, max_value=10)),
)
def test_round_trip_property(
    name: str,
    repo: str,
    path: str,
    rev: str,
    ns: str,
    options: list[str],
    automated: dict[str, bool] | None,
    limit: int | None,
) -> None:
    spec: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": repo, "path": path, "targetRevision": rev},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": ns},
        "syncPolicy": {"syncOptions": options},
    }
    if automated is not None:
        spec["syncPolicy"]["automated"] = automated
    if limit is not None:
        spec["revisionHistoryLimit"] = limit
    app = parse_application({"metadata": {"name": name}, "spec": spec})
    assert parse_application(app.to_dict()) == app
    assert parse_application(app.to_dict()).to_dict() == app.to_dict()


def test_argo_namespace_maps_to_control_namespace() -> None:
    from console.engine.model import map_argo_api_version

    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "a", "namespace": "argocd"},
    }
    out = map_argo_api_version(obj)
    assert out["apiVersion"] == "trueup.dev/v1alpha1" and out["metadata"]["namespace"] == "trueup"
    assert obj["metadata"]["namespace"] == "argocd"  # input untouched
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "argocd"}}
    assert map_argo_api_version(other)["metadata"]["namespace"] == "argocd"
