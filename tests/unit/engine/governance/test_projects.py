"""AppProject policy: Argo's source/destination/resource matching (§6.2) and InvalidSpecError messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.engine.governance.projects import (
    DestinationIdentity,
    ProjectCluster,
    check_application,
    destination_identity,
    filepath_match,
    glob_match,
    is_app_namespace_permitted,
    is_destination_permitted,
    is_live_resource_permitted,
    is_resource_permitted,
    is_source_permitted,
    normalize_git_url,
    resource_violation,
)
from console.engine.model import AppProject, default_project, parse_application, parse_project


def project(**spec: Any) -> AppProject:
    return parse_project(
        {
            "apiVersion": "trueup.dev/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team"},
            "spec": spec,
        }
    )


# ------------------------------------------------------------------------------------ globs


@pytest.mark.parametrize(
    ("pattern", "value", "separators", "expected"),
    [
        ("*", "a/b/c", "/", False),  # only the callers special-case a lone "*" (PT:globMatch)
        ("a/*", "a/b", "/", True),
        ("a/*", "a/b/c", "/", False),
        ("a/**", "a/b/c", "/", True),
        ("a/*/c", "a/b/c", "/", True),
        ("a/?", "a/b", "/", True),
        ("a?b", "a/b", "/", False),
        ("a?b", "a/b", "", True),
        ("*", "a/b", "", True),
        ("{dev,prod}-*", "prod-eu", "", True),
        ("{dev,prod}-*", "qa-eu", "", False),
        ("team-[ab]", "team-a", "", True),
        ("team-[!ab]", "team-a", "", False),
        ("team-[a-c]", "team-c", "", True),
        ("a\\*", "a*", "", True),
        ("a\\*", "ab", "", False),
        ("[unclosed", "[unclosed", "", False),  # malformed pattern matches nothing
        ("{a,b", "a", "", False),
        ("a.b", "axb", "", False),  # regex metacharacters are literal
        ("", "", "", True),
        ("", "x", "", False),
    ],
)
def test_glob_match(pattern: str, value: str, separators: str, expected: bool) -> None:
    assert glob_match(pattern, value, separators) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "Deployment", True),
        ("*", "", True),
        ("", "", True),
        ("", "apps", False),
        ("Deploy*", "Deployment", True),
        ("*.k8s.io", "rbac.authorization.k8s.io", True),
        ("*", "a/b", False),  # filepath.Match never crosses '/'
        ("[^a]pps", "apps", False),
        ("[!a]pps", "bpps", True),
        ("[", "[", False),  # bad pattern => no match
    ],
)
def test_filepath_match(pattern: str, value: str, expected: bool) -> None:
    assert filepath_match(pattern, value) is expected


# ------------------------------------------------------------------------------ source repos


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://GitHub.com/Org/Repo.git", "https://github.com/org/repo"),
        ("https://github.com/org/repo/", "https://github.com/org/repo"),
        ("https://github.com/org/repo.git/", "https://github.com/org/repo"),
        ("  https://github.com/org/repo  ", "https://github.com/org/repo"),
        ("git@github.com:org/repo.git", "ssh://git@github.com/org/repo"),
        ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo"),
        ("ssh://git@host:2222/org/repo", "ssh://git@host:2222/org/repo"),
        ("*", "*"),
    ],
)
def test_normalize_git_url(url: str, normalized: str) -> None:
    assert normalize_git_url(url) == normalized


@pytest.mark.parametrize(
    ("repos", "url", "expected"),
    [
        (["*"], "https://anything.example/x/y/z.git", True),
        ([], "https://github.com/org/repo", False),
        (["https://github.com/org/repo"], "https://github.com/org/repo.git", True),
        (["https://github.com/org/repo.git"], "https://GITHUB.com/org/repo", True),
        (["git@github.com:org/repo.git"], "ssh://git@github.com/org/repo", True),
        (["https://github.com/org/*"], "https://github.com/org/repo", True),
        (["https://github.com/org/*"], "https://github.com/org/sub/repo", False),  # * is one segment
        (["https://github.com/org/**"], "https://github.com/org/sub/repo", True),
        (["https://github.com/*/repo"], "https://github.com/other/repo", True),
        (["https://github.com/org/*"], "https://gitlab.com/org/repo", False),
        # deny wins regardless of order
        (["*", "!https://github.com/org/secret"], "https://github.com/org/secret.git", False),
        (["!https://github.com/org/secret", "*"], "https://github.com/org/secret", False),
        (["*", "!https://github.com/org/secret"], "https://github.com/org/public", True),
        (
            ["https://github.com/org/*", "!https://github.com/org/team-*"],
            "https://github.com/org/team-a",
            False,
        ),
        (["https://github.com/org/*", "!https://github.com/org/team-*"], "https://github.com/org/app", True),
        # an untriggered deny entry counts as a match (PT:globMatch negation): deny-only permits the rest
        (["!https://github.com/org/secret"], "https://github.com/other/repo", True),
        (["!https://github.com/org/secret"], "https://github.com/org/secret", False),
        # deny patterns are normalized too
        (["*", "!git@github.com:org/secret.git"], "ssh://git@github.com/org/secret", False),
    ],
)
def test_is_source_permitted(repos: list[str], url: str, expected: bool) -> None:
    assert is_source_permitted(project(sourceRepos=repos), url) is expected


# ------------------------------------------------------------------------------ destinations

IN_CLUSTER = "https://kubernetes.default.svc"


@pytest.mark.parametrize(
    ("destinations", "server", "name", "namespace", "expected"),
    [
        ([], IN_CLUSTER, "in-cluster", "a", False),
        ([{"server": "*", "namespace": "*"}], "https://x", "", "anything", True),
        ([{"server": IN_CLUSTER, "namespace": "guestbook"}], IN_CLUSTER, "", "guestbook", True),
        ([{"server": IN_CLUSTER, "namespace": "guestbook"}], IN_CLUSTER, "", "other", False),
        ([{"server": IN_CLUSTER, "namespace": "team-*"}], IN_CLUSTER, "", "team-a", True),
        ([{"server": "https://*.example.com", "namespace": "*"}], "https://prod.example.com", "", "a", True),
        # by cluster name (server empty in the entry)
        ([{"name": "prod-*", "namespace": "*"}], "https://p", "prod-eu", "a", True),
        ([{"name": "prod-*", "namespace": "*"}], "https://p", "dev-eu", "a", False),
        # entry has a server, destination only known by name → server must match the resolved URL
        ([{"server": IN_CLUSTER, "namespace": "*"}], "", "in-cluster", "a", False),
        # namespace deny beats a later/earlier allow-all, in either order
        (
            [{"server": "*", "namespace": "*"}, {"server": "*", "namespace": "!kube-system"}],
            IN_CLUSTER,
            "",
            "kube-system",
            False,
        ),
        (
            [{"server": "*", "namespace": "!kube-system"}, {"server": "*", "namespace": "*"}],
            IN_CLUSTER,
            "",
            "kube-system",
            False,
        ),
        (
            [{"server": "*", "namespace": "*"}, {"server": "*", "namespace": "!kube-system"}],
            IN_CLUSTER,
            "",
            "default",
            True,
        ),
        # an untriggered namespace deny entry alone permits every other namespace
        ([{"server": "*", "namespace": "!kube-system"}], IN_CLUSTER, "", "default", True),
        ([{"server": "*", "namespace": "!kube-*"}], IN_CLUSTER, "", "kube-public", False),
        # a namespace deny only rejects on servers its entry matches
        (
            [{"server": "https://prod", "namespace": "!kube-system"}, {"server": "*", "namespace": "*"}],
            "https://dev",
            "",
            "kube-system",
            True,
        ),
        # server deny
        (
            [{"server": "*", "namespace": "*"}, {"server": "!https://prod", "namespace": "*"}],
            "https://prod",
            "",
            "a",
            False,
        ),
        (
            [{"server": "!https://prod", "namespace": "*"}, {"server": "*", "namespace": "*"}],
            "https://dev",
            "",
            "a",
            True,
        ),
        # a server deny only rejects within the namespaces its entry matches
        (
            [{"server": "!https://prod", "namespace": "team-a"}, {"server": "*", "namespace": "*"}],
            "https://prod",
            "",
            "team-b",
            True,
        ),
        (
            [{"server": "!https://prod", "namespace": "team-a"}, {"server": "*", "namespace": "*"}],
            "https://prod",
            "",
            "team-a",
            False,
        ),
        # name deny
        (
            [{"server": "*", "namespace": "*"}, {"name": "!prod", "namespace": "*"}],
            "https://p",
            "prod",
            "a",
            False,
        ),
        (
            [{"server": "*", "namespace": "*"}, {"name": "!prod", "namespace": "*"}],
            "https://d",
            "dev",
            "a",
            True,
        ),
        # a name deny rejects destinations whose cluster name is unknown
        (
            [{"server": "*", "namespace": "*"}, {"name": "!prod", "namespace": "*"}],
            "https://d",
            "",
            "a",
            False,
        ),
        # argo-cd#28854: a name deny, like a server deny, rejects only within its namespaces
        (
            [{"name": "!prod", "namespace": "team-a"}, {"server": "*", "namespace": "*"}],
            "https://p",
            "prod",
            "team-b",
            True,
        ),
        (
            [{"name": "!prod", "namespace": "team-a"}, {"server": "*", "namespace": "*"}],
            "https://p",
            "prod",
            "team-a",
            False,
        ),
        # trueup: a namespace deny on an entry that names its cluster (not its URL) rejects there
        # (Argo requires a server match, which a name-only entry never has; design-notes.md)
        (
            [{"name": "dev", "namespace": "team-*"}, {"name": "dev", "namespace": "!team-b"}],
            "https://dev",
            "dev",
            "team-b",
            False,
        ),
        (
            [{"name": "dev", "namespace": "team-*"}, {"name": "dev", "namespace": "!team-b"}],
            "https://dev",
            "dev",
            "team-a",
            True,
        ),
        # ... and only on that cluster
        (
            [{"name": "dev", "namespace": "!kube-system"}, {"server": "*", "namespace": "*"}],
            "https://prod",
            "prod",
            "kube-system",
            True,
        ),
    ],
)
def test_is_destination_permitted(
    destinations: list[dict[str, str]], server: str, name: str, namespace: str, expected: bool
) -> None:
    assert is_destination_permitted(project(destinations=destinations), server, name, namespace) is expected


def test_permit_only_project_scoped_clusters() -> None:
    proj = project(destinations=[{"server": "*", "namespace": "*"}], permitOnlyProjectScopedClusters=True)
    scoped = [ProjectCluster(name="team-cluster", server="https://team")]
    assert is_destination_permitted(proj, "https://team", "", "a", project_clusters=scoped)
    assert is_destination_permitted(proj, "https://renamed", "team-cluster", "a", project_clusters=scoped)
    assert not is_destination_permitted(proj, "https://other", "other", "a", project_clusters=scoped)
    assert not is_destination_permitted(proj, "https://team", "", "a")  # no scoped clusters known
    # still needs to match the destinations list first
    strict = project(
        destinations=[{"server": "https://x", "namespace": "a"}], permitOnlyProjectScopedClusters=True
    )
    assert not is_destination_permitted(strict, "https://team", "", "a", project_clusters=scoped)


@pytest.mark.parametrize(
    ("source_namespaces", "app_ns", "expected"),
    [
        ([], "trueup", True),
        ([], "", True),
        ([], "team-a", False),
        (["team-a"], "team-a", True),
        (["team-*"], "team-b", True),
        (["/^team-[0-9]+$/"], "team-42", True),
        (["/^team-[0-9]+$/"], "team-x", False),
        (["/[/"], "x", False),  # invalid regex matches nothing
    ],
)
def test_is_app_namespace_permitted(source_namespaces: list[str], app_ns: str, expected: bool) -> None:
    assert is_app_namespace_permitted(project(sourceNamespaces=source_namespaces), app_ns) is expected


# -------------------------------------------------------------------------------- resources

WHITELIST_ALL = [{"group": "*", "kind": "*"}]


@pytest.mark.parametrize(
    ("spec", "group", "kind", "name", "namespaced", "expected"),
    [
        # cluster-scoped: absent or empty whitelist ⇒ nothing
        ({}, "", "Namespace", "a", False, False),
        ({"clusterResourceWhitelist": []}, "", "Namespace", "a", False, False),
        ({"clusterResourceWhitelist": WHITELIST_ALL}, "", "Namespace", "a", False, True),
        (
            {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]},
            "",
            "Namespace",
            "a",
            False,
            True,
        ),
        (
            {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]},
            "rbac.authorization.k8s.io",
            "ClusterRole",
            "a",
            False,
            False,
        ),
        (
            {"clusterResourceWhitelist": [{"group": "*.k8s.io", "kind": "Cluster*"}]},
            "rbac.authorization.k8s.io",
            "ClusterRole",
            "x",
            False,
            True,
        ),
        # named cluster whitelist
        (
            {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": "team-*"}]},
            "",
            "Namespace",
            "team-a",
            False,
            True,
        ),
        (
            {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": "team-*"}]},
            "",
            "Namespace",
            "kube-system",
            False,
            False,
        ),
        # blacklist overrides whitelist (also by name)
        (
            {
                "clusterResourceWhitelist": WHITELIST_ALL,
                "clusterResourceBlacklist": [{"group": "", "kind": "Namespace"}],
            },
            "",
            "Namespace",
            "a",
            False,
            False,
        ),
        (
            {
                "clusterResourceWhitelist": WHITELIST_ALL,
                "clusterResourceBlacklist": [{"group": "", "kind": "Namespace", "name": "kube-*"}],
            },
            "",
            "Namespace",
            "team-a",
            False,
            True,
        ),
        # namespaced: absent whitelist ⇒ all; empty ⇒ none
        ({}, "apps", "Deployment", "a", True, True),
        ({"namespaceResourceWhitelist": []}, "apps", "Deployment", "a", True, False),
        (
            {"namespaceResourceWhitelist": [{"group": "apps", "kind": "Deployment"}]},
            "apps",
            "Deployment",
            "a",
            True,
            True,
        ),
        (
            {"namespaceResourceWhitelist": [{"group": "apps", "kind": "Deployment"}]},
            "",
            "ConfigMap",
            "a",
            True,
            False,
        ),
        ({"namespaceResourceWhitelist": [{"group": "", "kind": "*"}]}, "", "ConfigMap", "a", True, True),
        (
            {"namespaceResourceWhitelist": [{"group": "", "kind": "*"}]},
            "apps",
            "Deployment",
            "a",
            True,
            False,
        ),
        (
            {"namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}]},
            "",
            "ResourceQuota",
            "q",
            True,
            False,
        ),
        (
            {"namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}]},
            "",
            "ConfigMap",
            "q",
            True,
            True,
        ),
        ({"namespaceResourceBlacklist": []}, "", "ConfigMap", "q", True, True),
        # the cluster lists do not govern namespaced kinds and vice versa
        ({"clusterResourceBlacklist": WHITELIST_ALL}, "", "ConfigMap", "q", True, True),
        (
            {"namespaceResourceWhitelist": [], "clusterResourceWhitelist": WHITELIST_ALL},
            "",
            "Namespace",
            "x",
            False,
            True,
        ),
    ],
)
def test_is_resource_permitted(
    spec: dict[str, Any], group: str, kind: str, name: str, namespaced: bool, expected: bool
) -> None:
    assert is_resource_permitted(project(**spec), group, kind, name, namespaced) is expected


def test_is_live_resource_permitted_checks_namespace_destination() -> None:
    proj = project(
        destinations=[{"server": IN_CLUSTER, "namespace": "team-a"}], clusterResourceWhitelist=WHITELIST_ALL
    )
    assert is_live_resource_permitted(proj, "", "ConfigMap", "c", "team-a", IN_CLUSTER)
    assert not is_live_resource_permitted(proj, "", "ConfigMap", "c", "kube-system", IN_CLUSTER)
    assert is_live_resource_permitted(proj, "", "Namespace", "team-a", "", IN_CLUSTER)


def test_resource_violation_checks_the_objects_own_namespace() -> None:
    """CVE-2022-24768 class: the object's metadata.namespace, not the app's, decides."""
    proj = project(
        destinations=[{"name": "prod", "namespace": "team-a"}, {"server": "*", "namespace": "!kube-*"}],
        clusterResourceWhitelist=[{"group": "", "kind": "Namespace"}],
    )
    # the app names its cluster `prod`; the project's entries match by name or by server alike
    dest = destination_identity("", "prod", {"prod": "https://prod.example", "dev": "https://dev.example"})
    assert dest == DestinationIdentity("https://prod.example", "prod")
    assert resource_violation(proj, "", "ConfigMap", "c", "team-a", dest) is None
    assert (
        resource_violation(proj, "rbac.authorization.k8s.io", "RoleBinding", "admin", "kube-system", dest)
        == "namespace kube-system is not permitted in project 'team'"
    )
    assert resource_violation(proj, "", "ConfigMap", "c", "team-b", dest) is None  # `server: *` entry
    assert resource_violation(proj, "", "Namespace", "team-a", "", dest) is None  # cluster-scoped
    assert (
        resource_violation(proj, "rbac.authorization.k8s.io", "ClusterRoleBinding", "x", "", dest)
        == "resource rbac.authorization.k8s.io:ClusterRoleBinding is not permitted in project team"
    )
    # resolved from the server side too: a server-only app still matches the name-only entry
    by_server = destination_identity("https://prod.example", "", {"prod": "https://prod.example"})
    assert by_server == DestinationIdentity("https://prod.example", "prod")
    narrow = project(destinations=[{"name": "prod", "namespace": "team-a"}])
    assert resource_violation(narrow, "", "ConfigMap", "c", "team-a", by_server) is None
    assert resource_violation(narrow, "", "ConfigMap", "c", "team-b", by_server) == (
        "namespace team-b is not permitted in project 'team'"
    )


def test_default_project_permits_everything() -> None:
    proj = default_project()
    assert is_source_permitted(proj, "git@any.host:x/y.git")
    assert is_destination_permitted(proj, "https://any", "", "kube-system")
    assert is_resource_permitted(proj, "apiextensions.k8s.io", "CustomResourceDefinition", "x", False)
    assert is_resource_permitted(proj, "apps", "Deployment", "x", True)


# ------------------------------------------------------------------------- check_application

CLUSTERS = {"in-cluster": IN_CLUSTER, "prod-eu": "https://prod-eu.example.com"}


def app(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "project": "team",
        "source": {"repoURL": "https://github.com/org/repo.git", "path": "app"},
        "destination": {"server": IN_CLUSTER, "namespace": "team-a"},
    }
    base.update(spec)
    return {"kind": "Application", "metadata": {"name": "web"}, "spec": base}


TEAM = {
    "sourceRepos": ["https://github.com/org/*"],
    "destinations": [
        {"server": IN_CLUSTER, "namespace": "team-*"},
        {"name": "prod-eu", "namespace": "team-*"},
    ],
}


@pytest.mark.parametrize(
    ("spec_overrides", "expected"),
    [
        ({}, []),
        (
            {"source": {"repoURL": "https://gitlab.com/evil/repo", "path": "x"}},
            ["application repo https://gitlab.com/evil/repo is not permitted in project 'team'"],
        ),
        (
            {"destination": {"server": IN_CLUSTER, "namespace": "kube-system"}},
            [
                f"application destination server '{IN_CLUSTER}' and namespace 'kube-system' do not match any of the "
                "allowed destinations in project 'team'"
            ],
        ),
        (
            {
                "source": {"repoURL": "https://gitlab.com/evil/repo", "path": "x"},
                "destination": {"server": IN_CLUSTER, "namespace": "kube-system"},
            },
            [
                "application repo https://gitlab.com/evil/repo is not permitted in project 'team'",
                f"application destination server '{IN_CLUSTER}' and namespace 'kube-system' do not match any of the "
                "allowed destinations in project 'team'",
            ],
        ),
        ({"destination": {"name": "prod-eu", "namespace": "team-b"}}, []),
        (
            {"destination": {"name": "nowhere", "namespace": "team-b"}},
            ["there are no clusters with this name: nowhere"],
        ),
        (
            {"source": {"repoURL": "https://github.com/org/repo"}},
            ["spec.source.repoURL and either spec.source.path or spec.source.chart are required"],
        ),
        (
            {"source": {"repoURL": "https://github.com/org/charts", "chart": "web"}},
            ["spec.source.targetRevision is required if the manifest source is a helm chart"],
        ),
        (
            {
                "source": {
                    "repoURL": "https://github.com/org/charts",
                    "chart": "web",
                    "targetRevision": "1.0.0",
                }
            },
            [],
        ),
        (
            {
                "sources": [
                    {"repoURL": "https://github.com/org/charts", "chart": "web", "targetRevision": "1.0.0"},
                    {"repoURL": "https://github.com/org/values", "ref": "values"},
                ]
            },
            [],
        ),
        (
            {
                "sources": [
                    {"repoURL": "https://github.com/org/a", "path": "x"},
                    {"repoURL": "https://other.example/b", "path": "y"},
                ]
            },
            ["application repo https://other.example/b is not permitted in project 'team'"],
        ),
        (
            {
                "source": None,
                "sourceHydrator": {"drySource": {"repoURL": "https://github.com/org/dry", "path": "x"}},
            },
            [],
        ),
        (
            {"source": None, "sourceHydrator": {"drySource": {"repoURL": "https://gitlab.com/evil/dry"}}},
            ["application repo https://gitlab.com/evil/dry is not permitted in project 'team'"],
        ),
        (
            {"source": None, "sourceHydrator": {"drySource": {"path": "x"}}},
            ["spec.sourceHydrator.drySource.repoURL is required"],
        ),
        (
            {"source": None, "sourceHydrator": {"hydrateTo": {"targetBranch": "env"}}},
            ["spec.sourceHydrator.drySource.repoURL is required"],
        ),
    ],
)
def test_check_application(spec_overrides: dict[str, Any], expected: list[str]) -> None:
    assert check_application(project(**TEAM), parse_application(app(**spec_overrides)), CLUSTERS) == expected


def test_check_application_multi_source_requires_path_chart_or_ref() -> None:
    a = parse_application(app(sources=[{"repoURL": "https://github.com/org/a"}]))
    [msg] = check_application(project(**TEAM), a, CLUSTERS)
    assert msg.startswith(
        "spec.source.repoURL and either source.path, source.chart, or source.ref are required for source "
    )
    assert "https://github.com/org/a" in msg


def test_check_application_project_missing() -> None:
    assert check_application(None, parse_application(app()), CLUSTERS) == [
        "Application referencing project team which does not exist"
    ]


def test_check_application_destination_shape_errors() -> None:
    a = parse_application(app())
    both = copy.deepcopy(a)
    both.spec.destination.name = "in-cluster"
    assert check_application(project(**TEAM), both, CLUSTERS) == [
        f"application destination can't have both name and server defined: in-cluster {IN_CLUSTER}"
    ]
    neither = copy.deepcopy(a)
    neither.spec.destination.server = ""
    assert check_application(project(**TEAM), neither, CLUSTERS) == [
        "Destination server missing from app spec"
    ]


def test_check_application_resolves_cluster_name_for_name_denies() -> None:
    proj = project(
        sourceRepos=["*"],
        destinations=[{"server": "*", "namespace": "*"}, {"name": "!prod-eu", "namespace": "*"}],
    )
    to_prod_by_server = parse_application(app(destination={"server": CLUSTERS["prod-eu"], "namespace": "x"}))
    assert check_application(proj, to_prod_by_server, CLUSTERS) != []
    to_in_cluster = parse_application(app(destination={"server": IN_CLUSTER, "namespace": "x"}))
    assert check_application(proj, to_in_cluster, CLUSTERS) == []


def test_check_application_app_namespace() -> None:
    outside = app()
    outside["metadata"]["namespace"] = "team-a"
    a = parse_application(outside)
    assert check_application(project(**TEAM), a, CLUSTERS) == [
        "application 'web' in namespace 'team-a' is not permitted to use project 'team'"
    ]
    assert check_application(project(**TEAM, sourceNamespaces=["team-*"]), a, CLUSTERS) == []


# ------------------------------------------------------------------------------ properties

_segment = st.text(alphabet="abcdefghij-", min_size=1, max_size=6)
_repo = st.builds(
    lambda h, parts: f"https://{h}.example/" + "/".join(parts),
    _segment,
    st.lists(_segment, min_size=1, max_size=3),
)
_pattern_piece = st.one_of(_segment, st.just("*"), st.just("**"))
_pattern = st.one_of(
    st.just("*"),
    st.builds(
        lambda h, parts: f"https://{h}.example/" + "/".join(parts),
        st.one_of(_segment, st.just("*")),
        st.lists(_pattern_piece, min_size=1, max_size=3),
    ),
)


@given(
    repo=_repo,
    others=st.lists(_pattern, max_size=4),
    deny_at=st.integers(min_value=0, max_value=4),
    data=st.data(),
)
def test_matching_deny_always_denies_regardless_of_order(
    repo: str, others: list[str], deny_at: int, data: st.DataObject
) -> None:
    # a deny pattern built to match: the repo itself, or one with its last segment wildcarded
    deny = data.draw(
        st.sampled_from([repo, repo.rsplit("/", 1)[0] + "/*", repo.split(".example/")[0] + ".example/**"])
    )
    repos = list(others)
    repos.insert(min(deny_at, len(repos)), "!" + deny)
    assert is_source_permitted(project(sourceRepos=repos), repo) is False
    assert is_source_permitted(project(sourceRepos=list(reversed(repos))), repo) is False


@given(repo=_repo, patterns=st.lists(_pattern, max_size=4))
def test_permission_is_order_independent(repo: str, patterns: list[str]) -> None:
    assert is_source_permitted(project(sourceRepos=patterns), repo) == is_source_permitted(
        project(sourceRepos=list(reversed(patterns))), repo
    )


_any_text = st.text(max_size=30)


@given(repo=_any_text, server=_any_text, name=_any_text, namespace=_any_text, group=_any_text, kind=_any_text)
def test_wide_open_project_permits_everything(
    repo: str, server: str, name: str, namespace: str, group: str, kind: str
) -> None:
    proj = project(
        sourceRepos=["*"],
        destinations=[{"server": "*", "namespace": "*"}],
        clusterResourceWhitelist=WHITELIST_ALL,
    )
    assert is_source_permitted(proj, repo)
    if server:
        assert is_destination_permitted(proj, server, name, namespace)
    assert is_resource_permitted(proj, group, kind, "x", True)
    if "/" not in group and "/" not in kind:  # filepath.Match's '*' never crosses '/'
        assert is_resource_permitted(proj, group, kind, "x", False)


@given(
    group=st.from_regex(r"[a-z.]{0,12}", fullmatch=True),
    kind=st.from_regex(r"[A-Z][a-zA-Z]{0,12}", fullmatch=True),
)
def test_namespaced_whitelist_nil_vs_empty(group: str, kind: str) -> None:
    assert is_resource_permitted(project(), group, kind, "n", True) is True
    assert is_resource_permitted(project(namespaceResourceWhitelist=[]), group, kind, "n", True) is False
    assert is_resource_permitted(
        project(namespaceResourceWhitelist=[{"group": group, "kind": kind}]), group, kind, "n", True
    )
    # cluster-scoped: nil and empty are the same (nothing)
    assert is_resource_permitted(project(), group, kind, "n", False) is False
    assert is_resource_permitted(project(clusterResourceWhitelist=[]), group, kind, "n", False) is False


@given(value=st.text(alphabet="abc-./_", max_size=12))
def test_literal_glob_matches_only_itself(value: str) -> None:
    assert glob_match(value, value, "/")
    assert not glob_match(value, value + "x", "/")
