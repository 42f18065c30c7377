"""Argo CD's RBAC tests (AC:util/rbac/rbac_test.go, AC:server/rbacpolicy/rbacpolicy_test.go), ported
case by case as tables, plus trueup's project-policy validation and argocd-rbac-cm import."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.engine.governance import rbac
from console.engine.model import parse_project


def enf(
    user_policy: str = "", default: str = "", *, builtin: bool = True, mode: str = "glob"
) -> rbac.Enforcer:
    return rbac.Enforcer(
        rbac.PolicyConfig(policy_csv=user_policy, default_role=default, match_mode=mode), use_builtin=builtin
    )


# TestBuiltinPolicyEnforcer ------------------------------------------------------------------------
BUILTIN = [
    ("admin", "applications", "get", "foo/bar", True),
    ("admin", "applications", "delete", "foo/bar", True),
    ("role:readonly", "applications", "get", "foo/bar", True),
    ("role:admin", "applications", "get", "foo/bar", True),
    ("role:admin", "applications", "delete", "foo/bar", True),
    ("role:admin", "applications", "override", "foo/bar", True),
    ("role:admin", "applications", "action/apps/Deployment/restart", "foo/bar", True),
    ("role:readonly", "applications", "create", "foo/bar", False),
    ("role:readonly", "applications", "delete", "foo/bar", False),
    ("role:readonly", "applications", "sync", "foo/bar", False),
    ("role:readonly", "projects", "get", "foo", True),
    ("role:readonly", "logs", "get", "foo/bar", True),
    ("role:readonly", "exec", "create", "foo/bar", False),
    ("nobody", "applications", "get", "foo/bar", False),
]


@pytest.mark.parametrize(("sub", "res", "act", "obj", "want"), BUILTIN)
def test_builtin_policy(sub: str, res: str, act: str, obj: str, want: bool) -> None:
    assert enf().enforce(sub, res, act, obj) is want


def test_without_builtin_policy_admin_has_nothing() -> None:
    """TestBuiltinPolicyEnforcer's first assertion and TestNoPolicy."""
    assert not enf(builtin=False).enforce("admin", "applications", "get", "foo/bar")
    assert not enf(builtin=False).enforce("admin", "applications", "delete", "foo/bar")


# TestResourceActionWildcards (deny wins whatever the order) -----------------------------------------
WILDCARDS_POLICY = """
p,alice,*,get,foo/obj,allow
p, bob, repositories, *, foo/obj, allow
p, cathy, *, *, foo/obj, allow
p, dave, applications, get, foo/obj, allow
p, dave, applications/*, get, foo/obj, allow
p, eve, *, get, foo/obj, deny
p, mallory, repositories, *, foo/obj, deny
p, mallory, repositories, *, foo/obj, allow
p, mike, *, *, foo/obj, allow
p, mike, *, *, foo/obj, deny
p, trudy, applications, get, foo/obj, allow
p, trudy, applications/*, get, foo/obj, allow
p, trudy, applications/secrets, get, foo/obj, deny
"""
WILDCARDS = [
    ("alice", "applications", "get", True),
    ("alice", "applications/resources", "get", True),
    ("alice", "applications/resources", "delete", False),
    ("bob", "repositories", "get", True),
    ("bob", "repositories", "delete", True),
    ("bob", "applications", "get", False),
    ("cathy", "repositories", "get", True),
    ("cathy", "repositories", "delete", True),
    ("cathy", "applications", "get", True),
    ("cathy", "applications/resources", "delete", True),
    ("dave", "applications", "get", True),
    ("dave", "applications/logs", "get", True),
    ("eve", "applications", "get", False),
    ("eve", "applications/resources", "get", False),
    ("eve", "applications/resources", "delete", False),
    ("mallory", "repositories", "get", False),  # deny listed first
    ("mallory", "repositories", "delete", False),
    ("mallory", "applications", "get", False),
    ("mike", "repositories", "get", False),  # deny listed last: deny still wins
    ("mike", "repositories", "delete", False),
    ("mike", "applications", "get", False),
    ("mike", "applications/resources", "delete", False),
    ("trudy", "applications", "get", True),
    ("trudy", "applications/logs", "get", True),
    ("trudy", "applications/secrets", "get", False),
]


@pytest.mark.parametrize(("sub", "res", "act", "want"), WILDCARDS)
def test_resource_action_wildcards_and_deny_wins(sub: str, res: str, act: str, want: bool) -> None:
    assert enf(WILDCARDS_POLICY, builtin=False).enforce(sub, res, act, "foo/obj") is want


# TestProjectIsolationEnforcement / TestProjectReadOnly --------------------------------------------
ISOLATION = """
p, role:foo-admin, *, *, foo/*, allow
p, role:bar-admin, *, *, bar/*, allow
g, alice, role:foo-admin
g, bob, role:bar-admin
"""


@pytest.mark.parametrize(
    ("sub", "obj", "want"),
    [
        ("bob", "bar/obj", True),
        ("bob", "foo/obj", False),
        ("alice", "foo/obj", True),
        ("alice", "bar/obj", False),
    ],
)
def test_project_isolation(sub: str, obj: str, want: bool) -> None:
    assert enf(ISOLATION, builtin=False).enforce(sub, "applications", "delete", obj) is want


@pytest.mark.parametrize(
    ("sub", "act", "obj", "want"),
    [
        ("alice", "get", "foo/obj", True),
        ("alice", "delete", "bar/obj", False),
        ("alice", "get", "bar/obj", False),
        ("bob", "get", "foo/obj", False),
    ],
)
def test_project_read_only(sub: str, act: str, obj: str, want: bool) -> None:
    e = enf("p, role:foo-readonly, *, get, foo/*, allow\ng, alice, role:foo-readonly", builtin=False)
    assert e.enforce(sub, "applications", act, obj) is want


# TestDefaultRole / TestDefaultRoleWithRuntimePolicy ---------------------------------------------
def test_default_role() -> None:
    assert not enf().enforce("bob", "applications", "get", "foo/bar")
    assert enf(default="role:readonly").enforce("bob", "applications", "get", "foo/bar")
    assert not enf(default="role:readonly").enforce("bob", "applications", "sync", "foo/bar")


def test_default_role_allow_cannot_be_denied() -> None:
    """D:operator-manual/rbac.md: the default role is evaluated first; a deny cannot block it."""
    e = enf("p, bob, applications, get, foo/*, deny", default="role:readonly")
    assert e.enforce("bob", "applications", "get", "foo/bar")
    assert e.enforce_claims("bob", [], "applications", "get", "foo/bar")


# TestURLAsObjectName / TestDefaultGlobMatchMode / TestGlobMatchMode / TestRegexMatchMode -----------
URLS = """
p, alice, repositories, *, foo/*, allow
p, bob, repositories, *, foo/https://github.com/argoproj/argo-cd.git, allow
p, cathy, repositories, *, foo/*, allow
"""


@pytest.mark.parametrize(
    ("sub", "obj", "want"),
    [
        ("alice", "foo/https://github.com/argoproj/argo-cd.git", True),
        ("alice", "foo/https://github.com/golang/go.git", True),
        ("bob", "foo/https://github.com/argoproj/argo-cd.git", True),
        ("bob", "foo/https://github.com/golang/go.git", False),
    ],
)
def test_url_as_object_name(sub: str, obj: str, want: bool) -> None:
    assert enf(URLS, builtin=False).enforce(sub, "repositories", "delete", obj) is want


GLOB_POLICY = 'p, alice, clusters, get, "https://github.com/*/*.git", allow'


def test_default_glob_match_mode() -> None:
    e = enf(GLOB_POLICY, builtin=False)
    assert e.enforce("alice", "clusters", "get", "https://github.com/argoproj/argo-cd.git")
    assert not e.enforce("alice", "repositories", "get", "https://github.com/argoproj/argo-cd.git")
    assert not e.enforce("alice", "clusters", "get", "https://github.com/argo-cd.git")


def test_regex_match_mode() -> None:
    e = enf(
        'p, alice, clusters, get, "https://github.com/argo[a-z]{4}/argo-[a-z]+.git", allow',
        builtin=False,
        mode="regex",
    )
    assert e.enforce("alice", "clusters", "get", "https://github.com/argoproj/argo-cd.git")
    assert not e.enforce("alice", "clusters", "get", "https://github.com/argoproj/1argo-cd.git")


@pytest.mark.parametrize(
    ("value", "pattern", "want"),
    [
        ("arg/123", "arg/*", True),  # TestGlobMatchFunc
        ("payments/api/x", "payments/*", True),  # `*` crosses `/` (no separators)
        ("payments", "payments/*", False),
        ("risk/x", "payments/*", False),
        ("a/b", "a/?", True),
        ("app-1", "app-{1,2}", True),
        ("app-3", "app-{1,2}", False),
        ("x", "[", False),  # a malformed glob matches nothing
    ],
)
def test_glob_without_separators(value: str, pattern: str, want: bool) -> None:
    assert rbac.glob_or_regex("glob")(value, pattern) is want
    assert rbac.glob_or_regex("glob")(1, pattern) is False  # non-strings never match


# TestUpdatePolicy / TestValidatePolicy / TestLoadPolicyLine ------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        "p, role:admin, projects, delete, *, allow",
        "",
        "#",
        'p, "role,admin", projects, delete, *, allow',
        " p, role:admin, projects, delete, *, allow ",
        "g, your-github-org:your-team, role:org-admin",
        "# Some comment",
    ],
)
def test_valid_policy_lines(line: str) -> None:
    assert rbac.validate_config(rbac.PolicyConfig(policy_csv=line)) == []


@pytest.mark.parametrize(
    "line",
    [
        "this, is, not, a, good, policy",
        "this\ttoo",
        "p",
        "Some comment",
        "agh, foo, bar",
        "p, role:Myrole, applications, *, myproj/* allow",
        ", role:Myrole, applications, *, myproj/*, allow",
        "p, role:x, applications, get, a/*, maybe",
    ],
)
def test_invalid_policy_lines(line: str) -> None:
    problems = rbac.validate_config(rbac.PolicyConfig(policy_csv=f"# ok\n{line}", source="policy.csv"))
    assert problems and problems[0].startswith("policy.csv line 2: invalid RBAC policy")


def test_quoted_subject_keeps_its_comma() -> None:
    e = enf('p, "role,admin", projects, delete, *, allow\ng, carol, "role,admin"', builtin=False)
    assert e.enforce("carol", "projects", "delete", "x")


# TestPolicyCSV ------------------------------------------------------------------------------------
def test_policy_csv_keys_in_order() -> None:
    data = {
        "UnrelatedKey": "unrelated value",
        "policy.B.csv": "policyb",
        "policy.A.csv": "policya",
        "policy.C.csv": "policyc",
        "policy.csv": "policy1",
    }
    assert rbac.policy_csv(data).split("\n") == ["policy1", "policya", "policyb", "policyc"]
    assert rbac.policy_csv({}) == ""


def test_argocd_rbac_cm_imported_as_is() -> None:
    cm = """apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-rbac-cm, namespace: argocd}
data:
  policy.default: role:readonly
  policy.csv: |
    p, role:org-admin, applications, *, */*, allow
    g, my-org:team-alpha, role:org-admin
  policy.overlay.csv: |
    p, role:org-admin, clusters, get, *, allow
  scopes: '[groups, email]'
"""
    cfg = rbac.parse_policy_file(cm, "argocd-rbac-cm.yaml")
    assert cfg.default_role == "role:readonly" and cfg.scopes == ("groups", "email")
    e = rbac.Enforcer(cfg)
    assert e.enforce_claims("someone", ["my-org:team-alpha"], "applications", "sync", "x/y")
    assert e.enforce_claims("someone", ["my-org:team-alpha"], "clusters", "get", "https://c")
    assert not e.enforce_claims("someone", ["other"], "applications", "sync", "x/y")
    assert e.enforce_claims("someone", ["other"], "applications", "get", "x/y")  # policy.default


# server/rbacpolicy: project roles and groups ------------------------------------------------------
PROJECT = parse_project(
    {
        "apiVersion": "trueup.dev/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "payments", "namespace": "trueup"},
        "spec": {
            "roles": [
                {
                    "name": "deployer",
                    "groups": ["payments-dev"],
                    "policies": [
                        "p, proj:payments:deployer, applications, sync, payments/*, allow",
                        "p, proj:payments:deployer, applications, sync, payments/frozen, deny",
                        # refused (object outside the project, wrong subject): never widen the project
                        "p, proj:payments:deployer, applications, sync, risk/*, allow",
                        "p, proj:risk:deployer, applications, sync, payments/*, allow",
                        "p, proj:payments:deployer, projects, delete, payments, allow",
                    ],
                },
                {
                    "name": "ci",
                    "policies": ["p, proj:payments:ci, applications, sync, payments/staging, allow"],
                },
            ]
        },
    }
)


def project_enf(policy: str = "", default: str = "") -> rbac.Enforcer:
    return rbac.Enforcer(
        rbac.PolicyConfig(policy_csv=policy, default_role=default), projects={"payments": PROJECT}
    )


@pytest.mark.parametrize(
    ("user", "groups", "res", "act", "obj", "want"),
    [
        ("bob", ["payments-dev"], "applications", "sync", "payments/api", True),
        (
            "bob",
            ["payments-dev"],
            "applications",
            "sync",
            "payments/frozen",
            False,
        ),  # deny wins in the project
        ("bob", ["payments-dev"], "applications", "sync", "risk/engine", False),  # refused line
        ("bob", ["payments-dev"], "projects", "get", "payments", True),  # roles may get their project
        ("bob", ["payments-dev"], "projects", "delete", "payments", False),
        ("bob", [], "applications", "sync", "payments/api", False),  # not in the group
        ("dave", ["risk-dev"], "applications", "sync", "payments/api", False),
        ("proj:payments:ci", [], "applications", "sync", "payments/staging", True),  # a role token
        ("proj:payments:ci", [], "applications", "sync", "payments/api", False),
        ("proj:payments:deployer", [], "applications", "sync", "risk/x", False),  # token outside its project
        ("admin", [], "applications", "sync", "payments/api", True),  # built-in admin
    ],
)
def test_project_roles_with_groups(
    user: str, groups: list[str], res: str, act: str, obj: str, want: bool
) -> None:
    assert project_enf().enforce_claims(user, groups, res, act, obj) is want


def test_refused_project_lines_are_reported() -> None:
    e = project_enf()
    e.enforce_claims("bob", ["payments-dev"], "applications", "sync", "payments/api")
    assert len(e.rejected) == 3
    assert any("object must be of form 'payments/*'" in r for r in e.rejected)
    assert any(
        "policy subject must be: 'proj:payments:deployer', not 'proj:risk:deployer'" in r for r in e.rejected
    )
    assert any("project resource must be" in r for r in e.rejected)


def test_group_deny_does_not_block_user_allow_and_vice_versa() -> None:
    """EnforceClaims checks the user, then each group separately: each subject's own allow/deny
    decides for that subject (a deny bound to one group does not revoke another group's allow)."""
    policy = """
p, role:deployer, applications, sync, */*, allow
p, role:frozen, applications, sync, payments/*, deny
g, deployers, role:deployer
g, freeze, role:frozen
g, freeze, role:deployer
"""
    e = project_enf(policy)
    assert e.enforce_claims("x", ["deployers", "freeze"], "applications", "sync", "payments/api")
    assert not e.enforce_claims("x", ["freeze"], "applications", "sync", "payments/api")
    assert e.enforce_claims("x", ["freeze"], "applications", "sync", "risk/api")


def test_unbound_groups_are_not_consulted() -> None:
    """Groups that appear in no `g` line cannot match a `p` line written for that name directly
    (rbacpolicy prefilters the user's groups by the grouping policy)."""
    e = project_enf("p, lonely, applications, sync, */*, allow")
    assert not e.enforce_claims("x", ["lonely"], "applications", "sync", "a/b")
    assert e.enforce("lonely", "applications", "sync", "a/b")  # as a subject (rbac can) it matches


def test_app_object_format() -> None:
    assert rbac.app_object("payments", "api") == "payments/api"
    assert rbac.app_object("payments", "api", "trueup") == "payments/api"
    assert rbac.app_object("payments", "api", "team-a") == "payments/team-a/api"


# the per-subject enforcer (only the lines a subject can reach) decides as the whole policy does
_SUBJECTS = ["alice", "bob", "g1", "g2", "role:a", "role:b", "role:readonly", "role:admin", "admin", "nobody"]
_LINES = st.one_of(
    st.tuples(
        st.just("p"),
        st.sampled_from(_SUBJECTS),
        st.sampled_from(["applications", "projects", "*"]),
        st.sampled_from(["get", "sync", "*", "action/*"]),
        st.sampled_from(["a/*", "*/*", "a/x", "b/*", "*"]),
        st.sampled_from(["allow", "deny"]),
    ),
    st.tuples(st.just("g"), st.sampled_from(_SUBJECTS), st.sampled_from(_SUBJECTS)),
)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(_LINES, max_size=12),
    subject=st.sampled_from(_SUBJECTS),
    res=st.sampled_from(["applications", "projects"]),
    act=st.sampled_from(["get", "sync", "action/apps/Deployment/restart"]),
    obj=st.sampled_from(["a/x", "a/y", "b/z", "a"]),
)
def test_subject_filtered_policy_decides_like_the_whole_policy(
    lines: list[tuple[str, ...]], subject: str, res: str, act: str, obj: str
) -> None:
    policy = "\n".join(", ".join(t) for t in lines)
    e = rbac.Enforcer(rbac.PolicyConfig(policy_csv=policy))
    project = e._project_of(res, obj)
    whole, _ = e._casbin(project)
    assert e._check(project, subject, res, act, obj) == bool(whole.enforce(subject, res, act, obj))
