"""Argo CD RBAC on pycasbin: the casbin model, the built-in policy and the enforcement order, verbatim.

Three layers, as Argo CD has them (AC:util/rbac/rbac.go, AC:server/rbacpolicy/rbacpolicy.go):

* the casbin model (`MODEL_CONF`) with `globOrRegexMatch`: gobwas glob *without* separators, so
  `*` crosses `/` (`applications, get, */*` matches `payments/api`), or Go-style regex search when
  `policy.matchMode: regex`. Effect: some allow and no deny — deny wins, whatever the line order;
* `enforce()`: the default role (`policy.default`) is checked first and an allow there cannot be
  revoked by a deny (Argo's documented behaviour), then the subject;
* `enforce_claims()`: for project-scoped resources the project's role policies (plus
  `g, <group>, proj:<p>:<role>` for each role group and `projects, get, <p>` for each role) are
  added as runtime policy, then the user and each of their groups that appears in a `g` line are
  checked in turn.

Policy text is `policy.csv` unchanged (plus `policy.<x>.csv` keys appended in key order), so an
`argocd-rbac-cm` ConfigMap is importable as it is. Project role policies are validated the way
Argo's API server validates them before they are stored (a role of project `payments` may not
grant anything outside `payments/`); trueup loads projects from Git, so the check runs here, and an
invalid line is dropped (and reported) rather than widening the project's reach.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import casbin
from casbin import model as casbin_model

from console.engine.governance.projects import glob_match
from console.engine.model import AppProject

# AC:assets/model.conf (argocd-features.md §7.1), verbatim
MODEL_CONF = """\
[request_definition]
r = sub, res, act, obj

[policy_definition]
p = sub, res, act, obj, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && globOrRegexMatch(r.res, p.res) && globOrRegexMatch(r.act, p.act) && globOrRegexMatch(r.obj, p.obj)
"""

# AC:assets/builtin-policy.csv, verbatim
BUILTIN_POLICY_CSV = """\
# Built-in policy which defines two roles: role:readonly and role:admin,
# and additionally assigns the admin user to the role:admin role.
# There are two policy formats:
# 1. Applications, applicationsets, logs, and exec (which belong to a project):
# p, <role/user/group>, <resource>, <action>, <project>/<object>, <allow/deny>
# 2. All other resources:
# p, <role/user/group>, <resource>, <action>, <object>, <allow/deny>

p, role:readonly, applications, get, */*, allow
p, role:readonly, applicationsets, get, */*, allow
p, role:readonly, certificates, get, *, allow
p, role:readonly, clusters, get, *, allow
p, role:readonly, repositories, get, *, allow
p, role:readonly, write-repositories, get, *, allow
p, role:readonly, projects, get, *, allow
p, role:readonly, accounts, get, *, allow
p, role:readonly, gpgkeys, get, *, allow
p, role:readonly, logs, get, */*, allow

p, role:admin, applications, create, */*, allow
p, role:admin, applications, update, */*, allow
p, role:admin, applications, update/*, */*, allow
p, role:admin, applications, delete, */*, allow
p, role:admin, applications, delete/*, */*, allow
p, role:admin, applications, sync, */*, allow
p, role:admin, applications, rollback, */*, allow
p, role:admin, applications, override, */*, allow
p, role:admin, applications, action/*, */*, allow
p, role:admin, applicationsets, get, */*, allow
p, role:admin, applicationsets, create, */*, allow
p, role:admin, applicationsets, update, */*, allow
p, role:admin, applicationsets, delete, */*, allow
p, role:admin, certificates, create, *, allow
p, role:admin, certificates, update, *, allow
p, role:admin, certificates, delete, *, allow
p, role:admin, clusters, create, *, allow
p, role:admin, clusters, update, *, allow
p, role:admin, clusters, delete, *, allow
p, role:admin, repositories, create, *, allow
p, role:admin, repositories, update, *, allow
p, role:admin, repositories, delete, *, allow
p, role:admin, write-repositories, create, *, allow
p, role:admin, write-repositories, update, *, allow
p, role:admin, write-repositories, delete, *, allow
p, role:admin, projects, create, *, allow
p, role:admin, projects, update, *, allow
p, role:admin, projects, delete, *, allow
p, role:admin, accounts, update, *, allow
p, role:admin, gpgkeys, create, *, allow
p, role:admin, gpgkeys, delete, *, allow
p, role:admin, exec, create, */*, allow

g, role:admin, role:readonly
g, admin, role:admin
"""

# Resources and actions (AC:util/rbac/rbac.go, argocd-features.md §7.2)
RES_APPLICATIONS = "applications"
RES_APPLICATIONSETS = "applicationsets"
RES_PROJECTS = "projects"
RES_CLUSTERS = "clusters"
RES_REPOSITORIES = "repositories"
RES_LOGS = "logs"
RES_EXEC = "exec"
RES_ACCOUNTS = "accounts"
RESOURCES = (
    RES_APPLICATIONS,
    RES_APPLICATIONSETS,
    RES_PROJECTS,
    RES_CLUSTERS,
    RES_REPOSITORIES,
    "write-repositories",
    RES_LOGS,
    RES_EXEC,
    RES_ACCOUNTS,
    "certificates",
    "gpgkeys",
    "extensions",
)
ACT_GET, ACT_CREATE, ACT_UPDATE, ACT_DELETE = "get", "create", "update", "delete"
ACT_SYNC, ACT_OVERRIDE, ACT_ROLLBACK, ACT_ACTION = "sync", "override", "rollback", "action"
ACT_IMPERSONATE = "impersonate"  # trueup: `--as USER` on sim workspaces (accounts, impersonate, USER)
ACTIONS = (
    ACT_GET,
    ACT_CREATE,
    ACT_UPDATE,
    ACT_DELETE,
    ACT_SYNC,
    ACT_OVERRIDE,
    ACT_ACTION,
    "invoke",
    ACT_ROLLBACK,
    ACT_IMPERSONATE,
)
# resources whose object is `<project>/<name>`: the project's role policies apply (rbacpolicy.go)
PROJECT_SCOPED = (RES_APPLICATIONSETS, RES_APPLICATIONS, RES_REPOSITORIES, RES_CLUSTERS, RES_LOGS, RES_EXEC)
PROJECT_ROLE_RESOURCES = (
    RES_APPLICATIONS,
    RES_APPLICATIONSETS,
    RES_REPOSITORIES,
    RES_CLUSTERS,
    RES_LOGS,
    RES_EXEC,
)
DEFAULT_SCOPES = ("groups",)
GLOB, REGEX = "glob", "regex"


class PolicyError(ValueError):
    """A policy line casbin (or Argo) refuses; the message names the line."""


# --------------------------------------------------------------------------------------------
# Policy configuration (argocd-rbac-cm)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyConfig:
    """What `argocd-rbac-cm` holds: policy CSV, default role, scopes, match mode."""

    policy_csv: str = ""
    default_role: str = ""
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    match_mode: str = GLOB
    source: str = "built-in policy only"


def policy_csv(data: Mapping[str, Any]) -> str:
    """AC:util/rbac PolicyCSV: `policy.csv`, then every `policy.<x>.csv` in key order."""
    parts = []
    main = data.get("policy.csv")
    if isinstance(main, str) and main:
        parts.append(main)
    for key in sorted(
        k for k in data if k.startswith("policy.") and k.endswith(".csv") and k != "policy.csv"
    ):
        value = data[key]
        if isinstance(value, str) and value:
            parts.append(value)
    return "\n".join(parts)


def _scopes(value: Any) -> tuple[str, ...]:
    """`scopes: '[groups, email]'` (a YAML flow list in a string, as the ConfigMap holds it)."""
    if value is None or value == "":
        return DEFAULT_SCOPES
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    items = tuple(s.strip().strip("'\"") for s in text.split(",") if s.strip())
    return items or DEFAULT_SCOPES


def from_rbac_configmap(data: Mapping[str, Any], source: str) -> PolicyConfig:
    """An `argocd-rbac-cm` (or trueup-rbac-cm) `data` map, as it is."""
    mode = str(data.get("policy.matchMode") or GLOB)
    return PolicyConfig(
        policy_csv=policy_csv(data),
        default_role=str(data.get("policy.default") or ""),
        scopes=_scopes(data.get("scopes")),
        match_mode=REGEX if mode == REGEX else GLOB,
        source=source,
    )


def from_workspace(rbac: Mapping[str, Any], source: str) -> PolicyConfig:
    """The `rbac:` section of trueup.yaml: argocd-rbac-cm keys, or the short `policy`/`default`."""
    data: dict[str, Any] = {k: v for k, v in rbac.items() if k.startswith("policy.") or k == "scopes"}
    if "policy.csv" not in data and isinstance(rbac.get("policy"), str):
        data["policy.csv"] = rbac["policy"]
    if "policy.default" not in data and rbac.get("default") is not None:
        data["policy.default"] = rbac["default"]
    if "policy.matchMode" not in data and rbac.get("matchMode") is not None:
        data["policy.matchMode"] = rbac["matchMode"]
    return from_rbac_configmap(data, source)


def parse_policy_file(text: str, source: str) -> PolicyConfig:
    """`--policy-file`: a ConfigMap manifest (YAML/JSON, `data:` read as argocd-rbac-cm) or plain CSV."""
    from console.engine import yamlsafe

    stripped = text.lstrip()
    if stripped.startswith(("p,", "p ", "g,", "g ", "#")) or not stripped:
        return PolicyConfig(policy_csv=text, source=source)
    try:
        doc = yamlsafe.load_one(text.encode(), source)
    except yamlsafe.ManifestError:
        return PolicyConfig(policy_csv=text, source=source)
    if isinstance(doc, dict) and isinstance(doc.get("data"), dict):
        return from_rbac_configmap(doc["data"], source)
    if isinstance(doc, dict) and ("policy.csv" in doc or "policy" in doc):
        return from_workspace(doc, source)
    return PolicyConfig(policy_csv=text, source=source)


# --------------------------------------------------------------------------------------------
# Policy lines
# --------------------------------------------------------------------------------------------


def parse_line(line: str) -> list[str] | None:
    """AC:util/rbac loadPolicyLine: CSV with leading spaces trimmed; `#` and blank lines skipped.

    Returns the tokens (`p`/`g` first), None for a line to skip; raises PolicyError otherwise.
    """
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    try:
        tokens = next(csv.reader([line], skipinitialspace=True))
    except (csv.Error, StopIteration):
        raise PolicyError(f"invalid RBAC policy: {line}") from None
    tokens = [t.strip() for t in tokens]
    if len(tokens) < 2 or not tokens[0] or tokens[0] not in ("p", "g"):
        raise PolicyError(f"invalid RBAC policy: {line}")
    if tokens[0] == "p" and len(tokens) != 6:
        raise PolicyError(
            f"invalid RBAC policy: {line} (a `p` line has 6 fields: p, sub, res, act, obj, eft)"
        )
    if tokens[0] == "g" and len(tokens) != 3:
        raise PolicyError(f"invalid RBAC policy: {line} (a `g` line has 3 fields: g, subject, role)")
    if tokens[0] == "p" and tokens[5] not in ("allow", "deny"):
        raise PolicyError(f"invalid RBAC policy: {line} (the effect is allow or deny)")
    return tokens


def parse_lines(text: str, where: str) -> list[list[str]]:
    """Every line of `text`; the first bad one raises PolicyError naming `where` and its line number."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            tokens = parse_line(line)
        except PolicyError as exc:
            raise PolicyError(f"{where} line {number}: {exc}") from None
        if tokens is not None:
            out.append(tokens)
    return out


def validate_project_policy(project: str, role: str, line: str) -> str | None:
    """PT:validatePolicy: why a project role's policy line is refused (None when valid)."""
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 6 or parts[0] != "p":
        return f"invalid policy rule '{line}': must be of the form: 'p, sub, res, act, obj, eft'"
    expected = f"proj:{project}:{role}"
    if parts[1] != expected:
        return f"invalid policy rule '{line}': policy subject must be: '{expected}', not '{parts[1]}'"
    if parts[2] not in PROJECT_ROLE_RESOURCES:
        return (
            f"invalid policy rule '{line}': project resource must be: 'applications', 'applicationsets', "
            f"'repositories', 'exec', 'logs' or 'clusters', not '{parts[2]}'"
        )
    if not parts[3]:
        return f"invalid policy rule '{line}': invalid action '{parts[3]}'"
    if not re.fullmatch(rf"{re.escape(project)}/[*\w\-.]+(/[*\w\-.]+)?", parts[4]):
        return (
            f"invalid policy rule '{line}': object must be of form '{project}/*', "
            f"'{project}[/<NAMESPACE>]/<APPNAME>' or '{project}[/<NAMESPACE>]/<APPNAME>', not '{parts[4]}'"
        )
    if parts[5] not in ("allow", "deny"):
        return f"invalid policy rule '{line}': effect must be: 'allow' or 'deny'"
    return None


@dataclass(frozen=True)
class ProjectPolicy:
    """One project's runtime policy (PT:ProjectPoliciesString) and the lines that were refused."""

    project: str
    lines: tuple[tuple[str, ...], ...]
    rejected: tuple[str, ...] = ()


def project_policy(project: AppProject) -> ProjectPolicy:
    name = project.name
    lines: list[tuple[str, ...]] = []
    rejected: list[str] = []
    for role in project.spec.roles:
        subject = f"proj:{name}:{role.name}"
        lines.append(("p", subject, RES_PROJECTS, ACT_GET, name, "allow"))
        for pol in role.policies:
            problem = validate_project_policy(name, role.name, pol)
            if problem:
                rejected.append(f"project {name} role {role.name}: {problem}")
                continue
            tokens = parse_line(pol)
            if tokens is not None:
                lines.append(tuple(tokens))
        for group in role.groups:
            lines.append(("g", group, subject))
    return ProjectPolicy(name, tuple(lines), tuple(rejected))


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def glob_or_regex(mode: str) -> Any:
    """AC:util/rbac globMatchFunc / casbin RegexMatchFunc: (value, pattern) -> bool."""
    if mode == REGEX:

        def regex_match(value: Any, pattern: Any) -> bool:
            if not isinstance(value, str) or not isinstance(pattern, str):
                return False
            compiled = _regex(pattern)
            return compiled is not None and compiled.search(value) is not None

        return regex_match

    def glob(value: Any, pattern: Any) -> bool:
        if not isinstance(value, str) or not isinstance(pattern, str):
            return False
        return glob_match(pattern, value)  # gobwas glob, no separators: `*` crosses `/`

    return glob


def _new_casbin(lines: Iterable[Sequence[str]], mode: str) -> casbin.Enforcer:
    m = casbin_model.Model()
    m.load_model_from_text(MODEL_CONF)
    for tokens in lines:
        m.add_policy(tokens[0], tokens[0], list(tokens[1:]))
    enforcer = casbin.Enforcer(m)
    enforcer.add_function("globOrRegexMatch", glob_or_regex(mode))
    enforcer.build_role_links()
    return enforcer


# --------------------------------------------------------------------------------------------
# The enforcer
# --------------------------------------------------------------------------------------------


@dataclass
class Enforcer:
    """Argo's RBAC enforcer over one policy configuration and the projects' role policies."""

    config: PolicyConfig = field(default_factory=PolicyConfig)
    projects: Mapping[str, AppProject] = field(default_factory=dict)
    use_builtin: bool = True
    rejected: list[str] = field(default_factory=list)
    _base_lines: list[list[str]] = field(default_factory=list, repr=False)
    _cache: dict[str, tuple[casbin.Enforcer, frozenset[str]]] = field(default_factory=dict, repr=False)
    _decisions: dict[tuple[str, ...], bool] = field(default_factory=dict, repr=False)
    _subject_cache: dict[str, casbin.Enforcer] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        builtin = parse_lines(BUILTIN_POLICY_CSV, "built-in policy") if self.use_builtin else []
        user = parse_lines(self.config.policy_csv, self.config.source)
        self._base_lines = [*builtin, *user]

    @property
    def default_role(self) -> str:
        return self.config.default_role

    def _lines(self, project: str | None) -> list[Sequence[str]]:
        """Built-in + user policy, plus `project`'s runtime policy (its refused lines reported)."""
        lines: list[Sequence[str]] = list(self._base_lines)
        proj = self.projects.get(project) if project else None
        if proj is not None:
            pp = project_policy(proj)
            lines.extend(pp.lines)
            for r in pp.rejected:
                if r not in self.rejected:
                    self.rejected.append(r)
        return lines

    def _casbin(self, project: str | None) -> tuple[casbin.Enforcer, frozenset[str]]:
        """The enforcer with `project`'s runtime policy added, and the subjects of its `g` lines."""
        key = project or ""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        lines = self._lines(project)
        enforcer = _new_casbin(lines, self.config.match_mode)
        grouped = frozenset(t[1] for t in lines if t[0] == "g")
        self._cache[key] = (enforcer, grouped)
        return enforcer, grouped

    def _for_subject(self, project: str | None, subject: str) -> casbin.Enforcer:
        """A casbin enforcer holding only the lines `subject` can reach: its roles (the `g` closure,
        casbin's default depth of 10) and their `p` lines. `g(r.sub, p.sub)` is false for every
        other line, so the decision is the same as over the whole policy — at the cost of the
        lines that matter (casbin evaluates the matcher once per line)."""
        key = f"{project or ''}\x00{subject}"
        cached = self._subject_cache.get(key)
        if cached is not None:
            return cached
        lines = self._lines(project)
        parents: dict[str, list[str]] = {}
        for t in lines:
            if t[0] == "g":
                parents.setdefault(t[1], []).append(t[2])
        reach, frontier = {subject}, [subject]
        for _depth in range(10):
            frontier = [p for s in frontier for p in parents.get(s, []) if p not in reach]
            if not frontier:
                break
            reach.update(frontier)
        kept = [t for t in lines if (t[0] == "p" and t[1] in reach) or (t[0] == "g" and t[1] in reach)]
        enforcer = _new_casbin(kept, self.config.match_mode)
        self._subject_cache[key] = enforcer
        return enforcer

    def _check(self, project: str | None, subject: str, resource: str, action: str, obj: str) -> bool:
        return bool(self._for_subject(project, subject).enforce(subject, resource, action, obj))

    @staticmethod
    def _project_of(resource: str, obj: str) -> str | None:
        """AC:rbacpolicy getProjectFromRequest."""
        if resource in PROJECT_SCOPED:
            parts = obj.split("/")
            return parts[0] if len(parts) >= 2 else None
        if resource == RES_PROJECTS:
            return obj or None
        return None

    def _enforce_one(self, project: str | None, subject: str, resource: str, action: str, obj: str) -> bool:
        """AC:util/rbac enforce: the default role first (its allow cannot be denied), then the subject."""
        if self.default_role and self._check(project, self.default_role, resource, action, obj):
            return True
        return bool(subject) and self._check(project, subject, resource, action, obj)

    def enforce(self, subject: str, resource: str, action: str, obj: str = "") -> bool:
        """One subject (a user, group or role name) with the default role: `rbac can` semantics."""
        return self._enforce_one(self._project_of(resource, obj), subject, resource, action, obj)

    def enforce_claims(
        self, user: str, groups: Sequence[str], resource: str, action: str, obj: str = ""
    ) -> bool:
        """AC:rbacpolicy EnforceClaims: project token subjects, then the user, then each group."""
        key = (user, *groups, "\x00", resource, action, obj)
        known = self._decisions.get(key)
        if known is not None:
            return known
        project = self._project_of(resource, obj)
        _enforcer, grouped = self._casbin(project)
        if user.startswith("proj:") and len(user.split(":")) == 3 and project is not None:
            # a project role token may act only inside its own project
            allowed = user.split(":")[1] == project and self._enforce_one(
                project, user, resource, action, obj
            )
        else:
            allowed = self._enforce_one(project, user, resource, action, obj) or any(
                g in grouped and self._check(project, g, resource, action, obj) for g in groups
            )
        self._decisions[key] = allowed
        return allowed


def app_object(project: str, app: str, app_namespace: str = "") -> str:
    """The RBAC object of an application: `<project>/<app>` (or `<project>/<ns>/<app>` elsewhere)."""
    from console.engine.model import CONTROL_NAMESPACE

    if app_namespace and app_namespace != CONTROL_NAMESPACE:
        return f"{project}/{app_namespace}/{app}"
    return f"{project}/{app}"


def validate_config(config: PolicyConfig) -> list[str]:
    """Problems casbin would refuse, one sentence each (used by `rbac can` and workspace loading)."""
    try:
        parse_lines(config.policy_csv, config.source)
    except PolicyError as exc:
        return [str(exc)]
    return []
