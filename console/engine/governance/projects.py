"""AppProject policy checks with Argo CD's exact matching semantics (argocd-features.md §6.2).

Pure functions over the typed model: which repos, destinations and resource kinds a project
permits, and the InvalidSpecError messages Argo raises for an Application that breaks them.
The negation rules are subtle and security relevant (a `!` entry whose pattern matches denies
regardless of entry order, and an untriggered `!` entry counts as a match), so they mirror
PT:globMatch / IsSourcePermitted / isDestinationMatched line by line rather than "improving" them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.engine.model import (
    CONTROL_NAMESPACE,
    Application,
    ApplicationSource,
    AppProject,
    ClusterResourceRestriction,
    GroupKind,
)

MSG_PROJECT_NOT_FOUND = "Application referencing project %s which does not exist"
MSG_REPO_NOT_PERMITTED = "application repo %s is not permitted in project '%s'"
MSG_DEST_NOT_PERMITTED = (
    "application destination server '%s' and namespace '%s' do not match any of the allowed destinations "
    "in project '%s'"
)
MSG_DEST_BOTH = "application destination can't have both name and server defined: %s %s"
MSG_DEST_MISSING = "Destination server missing from app spec"
MSG_NO_CLUSTER_NAMED = "there are no clusters with this name: %s"
MSG_SOURCE_REQUIRED = "spec.source.repoURL and either spec.source.path or spec.source.chart are required"
MSG_MULTI_SOURCE_REQUIRED = (
    "spec.source.repoURL and either source.path, source.chart, or source.ref are required for source %s"
)
MSG_CHART_REVISION_REQUIRED = "spec.source.targetRevision is required if the manifest source is a helm chart"
MSG_APP_NAMESPACE_NOT_PERMITTED = "application '%s' in namespace '%s' is not permitted to use project '%s'"
MSG_HYDRATOR_REPO_REQUIRED = "spec.sourceHydrator.drySource.repoURL is required"
# Argo's sync permission validator (AC:controller/sync.go WithPermissionValidator), verbatim
MSG_RESOURCE_NOT_PERMITTED = "resource %s:%s is not permitted in project %s"
MSG_NAMESPACE_NOT_PERMITTED = "namespace %s is not permitted in project '%s'"


# --------------------------------------------------------------------------------------------
# Globs
# --------------------------------------------------------------------------------------------


class _GlobSyntaxError(ValueError):
    pass


def _glob_to_regex(pattern: str, separators: str) -> str:
    """Translate gobwas/glob syntax: `*`, `**`, `?`, `[a-z]`, `[!a-z]`, `{a,b}`, `\\` escapes."""
    not_sep = f"[^{re.escape(separators)}]" if separators else "."
    out: list[str] = []
    stack: list[int] = []  # brace depth markers
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise _GlobSyntaxError("trailing escape")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                out.append(".*")
                i += 2
            else:
                out.append(f"{not_sep}*")
                i += 1
            continue
        if c == "?":
            out.append(not_sep)
            i += 1
            continue
        if c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise _GlobSyntaxError("unclosed character class")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            if negate:
                body = body[1:]
            if not body:
                raise _GlobSyntaxError("empty character class")
            parts: list[str] = []
            j = 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    lo, hi = body[j], body[j + 2]
                    if lo > hi:
                        raise _GlobSyntaxError("invalid range")
                    parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
                    j += 3
                else:
                    parts.append(re.escape(body[j]))
                    j += 1
            out.append(("[^" if negate else "[") + "".join(parts) + "]")
            i = end + 1
            continue
        if c == "{":
            stack.append(len(out))
            out.append("(?:")
            i += 1
            continue
        if c == "," and stack:
            out.append("|")
            i += 1
            continue
        if c == "}" and stack:
            stack.pop()
            out.append(")")
            i += 1
            continue
        out.append(re.escape(c))
        i += 1
    if stack:
        raise _GlobSyntaxError("unclosed alternation")
    return "".join(out)


@functools.lru_cache(maxsize=8192)
def _compile_glob(pattern: str, separators: str) -> re.Pattern[str] | None:
    try:
        return re.compile(_glob_to_regex(pattern, separators), re.DOTALL)
    except (_GlobSyntaxError, re.error):
        return None


def glob_match(pattern: str, value: str, separators: str = "") -> bool:
    """gobwas glob match as Argo's util/glob.Match: a malformed pattern matches nothing."""
    compiled = _compile_glob(pattern, separators)
    return compiled is not None and compiled.fullmatch(value) is not None


def is_deny_pattern(pattern: str) -> bool:
    return pattern.startswith("!")


def _glob_match_negatable(pattern: str, value: str, separators: str = "") -> bool:
    """PT:globMatch with allowNegation: `!p` matches iff `p` does not; a lone `*` matches anything."""
    if is_deny_pattern(pattern):
        return not glob_match(pattern[1:], value, separators)
    if pattern == "*":
        return True
    return glob_match(pattern, value, separators)


@functools.lru_cache(maxsize=4096)
def _compile_filepath(pattern: str) -> re.Pattern[str] | None:
    """Go filepath.Match: `*` and `?` never cross `/`; `[^...]`/`[!...]` negation; `\\` escapes."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("^", "!") else i + 1)
            if end < 0:
                return None
            body = pattern[i + 1 : end]
            negate = body[:1] in ("^", "!")
            if negate:
                body = body[1:]
            if not body:
                return None
            out.append(("[^" if negate else "[") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None


def filepath_match(pattern: str, value: str) -> bool:
    """Go filepath.Match; a bad pattern is an error in Go, which Argo treats as no match."""
    compiled = _compile_filepath(pattern)
    return compiled is not None and compiled.fullmatch(value) is not None


# --------------------------------------------------------------------------------------------
# Source repositories
# --------------------------------------------------------------------------------------------

_SCP_LIKE = re.compile(r"^(?P<user>[^/@:]+)@(?P<host>[^/:]+):(?P<path>.*)$")


def normalize_git_url(url: str) -> str:
    """Comparison form of a repo URL, in the spirit of Argo's git.NormalizeGitURL.

    Like Argo the whole URL is lower-cased (hosts and, for GitHub-style forges, paths are
    case-insensitive); `git@host:org/repo` becomes `ssh://git@host/org/repo`; a trailing `/`
    and `.git` are dropped. Glob patterns go through the same function, so they compare alike.
    """
    text = url.strip().lower()
    if not text.startswith(("ssh://", "http://", "https://", "git://", "file://")):
        m = _SCP_LIKE.match(text)
        if m:
            text = f"ssh://{m.group('user')}@{m.group('host')}/{m.group('path').lstrip('/')}"
    text = text.rstrip("/")
    if text.endswith(".git"):
        text = text[: -len(".git")]
    return text.rstrip("/")


def is_source_permitted(project: AppProject, repo_url: str) -> bool:
    """PT:IsSourcePermitted: some entry matches and no `!` entry's pattern matches (order-free)."""
    src = normalize_git_url(repo_url)
    any_matched = False
    for entry in project.spec.source_repos:
        if is_deny_pattern(entry):
            normalized = "!" + normalize_git_url(entry[1:])
        else:
            normalized = normalize_git_url(entry)
        if _glob_match_negatable(normalized, src, "/"):
            any_matched = True
        elif is_deny_pattern(normalized):
            return False
    return any_matched


# --------------------------------------------------------------------------------------------
# Destinations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectCluster:
    """A cluster scoped to a project (for permitOnlyProjectScopedClusters)."""

    name: str
    server: str


def _is_destination_matched(project: AppProject, server: str, name: str, namespace: str) -> bool:
    """PT:isDestinationMatched (argocd-features.md §6.2) with argo-cd#28854's grouping: a `!name`
    or `!server` entry rejects only where its namespace matches.

    One departure (docs/design-notes.md): a `!namespace` entry rejects when the entry's cluster
    matches by server *or by name*. Argo requires a server match, so `{name: prod, namespace:
    '!kube-system'}` — the cluster named, not its URL — silently permits kube-system there; trueup
    always knows both the name and the server of the destination, and denies.
    """
    any_matched = False
    for item in project.spec.destinations:
        name_m = name != "" and _glob_match_negatable(item.name, name)
        server_m = server != "" and _glob_match_negatable(item.server, server)
        ns_m = _glob_match_negatable(item.namespace, namespace)
        if (server_m or name_m) and ns_m:
            any_matched = True
        elif (
            ((not name_m and is_deny_pattern(item.name)) or (not server_m and is_deny_pattern(item.server)))
            and ns_m
        ) or (not ns_m and is_deny_pattern(item.namespace) and (server_m or name_m)):
            return False
    return any_matched


def is_destination_permitted(
    project: AppProject,
    server: str,
    name: str,
    namespace: str,
    *,
    project_clusters: Iterable[ProjectCluster] | None = None,
) -> bool:
    """Whether (server, cluster name, namespace) is an allowed destination of `project`.

    Pass both the server URL and the cluster's name when known (Argo resolves the cluster first).
    With `permitOnlyProjectScopedClusters` the cluster must also be one of `project_clusters`.
    """
    matched = _is_destination_matched(project, server, name, namespace)
    if matched and project.spec.permit_only_project_scoped_clusters:
        return any(
            (name != "" and c.name == name) or (server != "" and c.server == server)
            for c in project_clusters or ()
        )
    return matched


def is_app_namespace_permitted(
    project: AppProject, app_namespace: str, control_namespace: str = CONTROL_NAMESPACE
) -> bool:
    """PT:IsAppNamespacePermitted: apps in the control namespace always; else `sourceNamespaces`.

    Entries are globs, or regular expressions when wrapped in `/.../` (util/glob REGEXP mode).
    """
    if app_namespace in ("", control_namespace):
        return True
    for entry in project.spec.source_namespaces:
        if len(entry) >= 2 and entry.startswith("/") and entry.endswith("/"):
            try:
                if re.search(entry[1:-1], app_namespace):
                    return True
            except re.error:
                continue
        elif entry == app_namespace or glob_match(entry, app_namespace):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Resource kinds
# --------------------------------------------------------------------------------------------


def _group_kind_in(group: str, kind: str, items: Iterable[GroupKind]) -> bool:
    return any(filepath_match(i.kind, kind) and filepath_match(i.group, group) for i in items)


def _named_resource_in(group: str, kind: str, name: str, items: Iterable[ClusterResourceRestriction]) -> bool:
    for i in items:
        if filepath_match(i.kind, kind) and filepath_match(i.group, group):
            if not i.name or filepath_match(i.name, name):
                return True
    return False


def is_resource_permitted(project: AppProject, group: str, kind: str, name: str, namespaced: bool) -> bool:
    """T:IsGroupKindNamePermitted: whitelisted and not blacklisted.

    Cluster-scoped: an empty or absent whitelist permits nothing. Namespaced: an absent
    whitelist permits everything, an empty one nothing.
    """
    spec = project.spec
    if namespaced:
        white = spec.namespace_resource_whitelist
        whitelisted = white is None or (len(white) > 0 and _group_kind_in(group, kind, white))
        blacklisted = _group_kind_in(group, kind, spec.namespace_resource_blacklist or [])
        return whitelisted and not blacklisted
    whitelisted = _named_resource_in(group, kind, name, spec.cluster_resource_whitelist or [])
    blacklisted = _named_resource_in(group, kind, name, spec.cluster_resource_blacklist or [])
    return whitelisted and not blacklisted


@dataclass(frozen=True)
class DestinationIdentity:
    """An Application's destination cluster as both its server URL and its name ("" if unknown).

    Argo infers the missing half before matching, so a project destination written with `name`
    matches an app that used `server` (and the other way round).
    """

    server: str
    name: str


def destination_identity(
    server: str, name: str, cluster_name_to_server: Mapping[str, str]
) -> DestinationIdentity:
    if name:
        return DestinationIdentity(cluster_name_to_server.get(name, server), name)
    names = [n for n, s in cluster_name_to_server.items() if s == server]
    return DestinationIdentity(server, names[0] if len(names) == 1 else "")


def resource_violation(
    project: AppProject,
    group: str,
    kind: str,
    name: str,
    namespace: str,
    dest: DestinationIdentity,
    *,
    project_clusters: Iterable[ProjectCluster] | None = None,
) -> str | None:
    """Why `project` forbids this object of an app deployed to `dest` (None: permitted).

    The one check behind compare, the sync executor and app deletion, after Argo's sync permission
    validator: the group/kind must be permitted, and a namespaced object's *own* namespace (callers
    pass it already defaulted to the app's destination namespace) must be a permitted destination
    together with the app's cluster — an app allowed into `team-a` cannot carry an object whose
    `metadata.namespace` is `kube-system` (CVE-2022-24768 class). `namespace` "" = cluster-scoped.
    """
    if not is_resource_permitted(project, group, kind, name, namespace != ""):
        return MSG_RESOURCE_NOT_PERMITTED % (group, kind, project.name)
    if namespace and not is_destination_permitted(
        project, dest.server, dest.name, namespace, project_clusters=project_clusters
    ):
        return MSG_NAMESPACE_NOT_PERMITTED % (namespace, project.name)
    return None


def is_live_resource_permitted(
    project: AppProject,
    group: str,
    kind: str,
    name: str,
    namespace: str,
    server: str,
    cluster_name: str = "",
    *,
    project_clusters: Iterable[ProjectCluster] | None = None,
) -> bool:
    """PT:IsResourcePermitted: kind permitted, and a namespaced object's namespace is a permitted destination."""
    if not is_resource_permitted(project, group, kind, name, namespace != ""):
        return False
    if namespace:
        return is_destination_permitted(
            project, server, cluster_name, namespace, project_clusters=project_clusters
        )
    return True


# --------------------------------------------------------------------------------------------
# Application validation
# --------------------------------------------------------------------------------------------


def _source_repr(src: ApplicationSource) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in src.to_dict().items() if isinstance(v, str)) + "}"


def _validate_source(src: ApplicationSource, multiple: bool) -> str | None:
    """AC:util/argo validateSourcePermissions."""
    if multiple:
        if not src.repo_url or not (src.path or src.chart or src.ref):
            return MSG_MULTI_SOURCE_REQUIRED % _source_repr(src)
    elif not src.repo_url or not (src.path or src.chart):
        return MSG_SOURCE_REQUIRED
    if src.chart and not src.target_revision:
        return MSG_CHART_REVISION_REQUIRED
    return None


def check_application(
    project: AppProject | None,
    app: Application,
    cluster_name_to_server: Mapping[str, str],
    *,
    project_clusters: Iterable[ProjectCluster] | None = None,
    control_namespace: str = CONTROL_NAMESPACE,
) -> list[str]:
    """InvalidSpecError messages for `app` under `project`, in Argo's order (AC:util/argo ValidatePermissions).

    `project` None means the referenced project does not exist. An empty list means permitted.
    """
    if project is None:
        return [MSG_PROJECT_NOT_FOUND % app.spec.project]
    app_ns = str(app.metadata.get("namespace") or "")
    if not is_app_namespace_permitted(project, app_ns, control_namespace):
        return [MSG_APP_NAMESPACE_NOT_PERMITTED % (app.name, app_ns, project.name)]
    messages: list[str] = []
    spec = app.spec
    if spec.source_hydrator is not None:
        dry = spec.source_hydrator.dry_source or {}
        repo = dry.get("repoURL", "")
        repo = repo if isinstance(repo, str) else ""
        if not repo:
            return [MSG_HYDRATOR_REPO_REQUIRED]
        if not is_source_permitted(project, repo):
            messages.append(MSG_REPO_NOT_PERMITTED % (repo, spec.project))
    elif spec.has_multiple_sources():
        for src in spec.sources:
            problem = _validate_source(src, True)
            if problem:
                return [*messages, problem]
            if not is_source_permitted(project, src.repo_url):
                messages.append(MSG_REPO_NOT_PERMITTED % (src.repo_url, spec.project))
    else:
        if spec.source is None:
            return [MSG_SOURCE_REQUIRED]
        problem = _validate_source(spec.source, False)
        if problem:
            return [problem]
        if not is_source_permitted(project, spec.source.repo_url):
            messages.append(MSG_REPO_NOT_PERMITTED % (spec.source.repo_url, spec.project))

    dest = spec.destination
    if dest.name and dest.server:
        return [*messages, MSG_DEST_BOTH % (dest.name, dest.server)]
    if dest.name and dest.name not in cluster_name_to_server:
        return [*messages, MSG_NO_CLUSTER_NAMED % dest.name]
    if not dest.server and not dest.name:
        return [*messages, MSG_DEST_MISSING]
    ident = destination_identity(dest.server, dest.name, cluster_name_to_server)
    server, name = ident.server, ident.name
    if not is_destination_permitted(project, server, name, dest.namespace, project_clusters=project_clusters):
        messages.append(MSG_DEST_NOT_PERMITTED % (server, dest.namespace, spec.project))
    return messages
