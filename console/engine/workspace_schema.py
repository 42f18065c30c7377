"""The `trueup.yaml` schema: every field's type checked by pydantic v2, errors naming the field.

A wrong type anywhere in the workspace file (`repoErrorGracePeriodSeconds: abc`, `settings: [1]`)
used to surface as a traceback from whichever command first used the value. Here the whole file is
validated once, when the workspace is loaded, and the first problem becomes one sentence:
`settings.repoErrorGracePeriodSeconds: must be an integer, got 'abc'`.

Keys this schema does not know are kept (extra="allow") so a newer workspace file still loads;
only the types of known fields are enforced.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)


class ClusterSpec(_Model):
    name: StrictStr
    server: StrictStr | None = None
    type: Literal["sim", "kube"] = "sim"
    context: StrictStr = ""
    kubeconfig: StrictStr = ""
    unpullable_images: list[StrictStr] | None = Field(default=None, alias="unpullableImages")
    # onboarding: other server URLs Applications use for this cluster (Argo's in-cluster
    # https://kubernetes.default.svc), and whether its credentials are in the keyring (import argocd)
    aliases: list[StrictStr] | None = None
    credentials: Literal["kubeconfig", "keyring"] = "kubeconfig"


class SettingsSpec(_Model):
    tracking_annotation: StrictStr = Field(default="trueup.dev/tracking-id", alias="trackingAnnotation")
    repo_error_grace_period_seconds: StrictInt = Field(default=180, ge=0, alias="repoErrorGracePeriodSeconds")
    resource_customizations: dict[StrictStr, dict[StrictStr, Any]] | None = Field(
        default=None, alias="resourceCustomizations"
    )
    ignore_resource_status_field: Literal["all", "crd", "none", "off", "false"] = Field(
        default="all", alias="ignoreResourceStatusField"
    )
    # Argo's resource.sensitive.mask.annotations is a comma-separated string; a YAML list is accepted too
    sensitive_mask_annotations: list[StrictStr] | StrictStr | None = Field(
        default=None, alias="sensitiveMaskAnnotations"
    )
    # onboarding: a directory laid out like Argo CD's resource_customizations/<group>/<kind>/health.lua
    resource_customizations_dir: StrictStr | None = Field(default=None, alias="resourceCustomizationsDir")
    # onboarding (import argocd): argocd-cm resource.exclusions / resource.compareoptions, kept as given
    resource_exclusions: list[dict[StrictStr, Any]] | None = Field(default=None, alias="resourceExclusions")
    resource_compare_options: dict[StrictStr, Any] | None = Field(
        default=None, alias="resourceCompareOptions"
    )
    # a team's own runbooks (docs/runbooks.md); relative to the workspace, default `runbooks/`
    runbooks_dir: StrictStr | None = Field(default=None, alias="runbooksDir")

    @field_validator("ignore_resource_status_field", mode="before")
    @classmethod
    def _false_is_none(cls, value: Any) -> Any:
        return "none" if value is False else value

    def sensitive_annotations(self) -> tuple[str, ...]:
        raw = self.sensitive_mask_annotations
        if raw is None:
            return ()
        items = raw.split(",") if isinstance(raw, str) else raw
        return tuple(dict.fromkeys(a.strip() for a in items if a.strip()))


class RepoSpec(_Model):
    """One repository (`trueup repo add`): its URL and how to reach it; credentials live in the keyring."""

    url: StrictStr
    type: Literal["git", "helm"] = "git"
    name: StrictStr = ""
    credentials: Literal["none", "https", "ssh"] = "none"  # kind of keyring entry, never the secret
    insecure_ignore_host_key: StrictBool = Field(default=False, alias="insecureIgnoreHostKey")


class CredentialTemplateSpec(_Model):
    """Argo's repocreds: credentials for every repository URL that starts with `url`."""

    url: StrictStr
    type: Literal["git", "helm"] = "git"
    credentials: Literal["https", "ssh"] = "https"


class RepositoriesSpec(_Model):
    allow_file_urls: StrictBool = Field(default=False, alias="allowFileURLs")
    # onboarding: repositories, credential templates, mirrors and the git settings trueup passes on
    repos: list[RepoSpec] | None = None
    credential_templates: list[CredentialTemplateSpec] | None = Field(
        default=None, alias="credentialTemplates"
    )
    url_rewrites: dict[StrictStr, StrictStr] | None = Field(default=None, alias="urlRewrites")
    git_config: dict[StrictStr, StrictStr] | None = Field(default=None, alias="gitConfig")

    @field_validator("git_config")
    @classmethod
    def _only_http_settings(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not re.match(r"^http\.([^\s=]+\.)?[A-Za-z][A-Za-z0-9]*$", key):
                raise ValueError(
                    f"gitConfig key {key!r} is not allowed: only http.* settings are passed to git"
                )
        return value

    ssh_known_hosts_file: StrictStr | None = Field(default=None, alias="sshKnownHostsFile")


class InventorySpec(_Model):
    roots: list[StrictStr] | None = None


class UserSpec(_Model):
    """A sim workspace's identity (governance): display name, email, groups."""

    name: StrictStr = ""
    email: StrictStr = ""
    groups: list[StrictStr] | None = None


class RbacSpec(_Model):
    """argocd-rbac-cm keys (`policy.csv`, `policy.<x>.csv`, `policy.default`, `scopes`,
    `policy.matchMode`) or the short `policy` / `default` / `matchMode` (governance)."""

    policy: StrictStr | None = None
    default: StrictStr | None = None
    match_mode: Literal["glob", "regex"] | None = Field(default=None, alias="matchMode")
    scopes: StrictStr | list[StrictStr] | None = None


class ConsoleSpec(_Model):
    """`console:` in trueup.yaml: the operations console's defaults for this workspace."""

    theme: StrictStr | None = None
    keymap: dict[StrictStr, StrictStr] | None = None  # binding id -> keys ("table.down": "j,down")
    ascii: StrictBool | None = None  # status symbols in ASCII (terminals without Unicode)


class WorkspaceSpec(_Model):
    api_version: StrictStr | None = Field(default=None, alias="apiVersion")
    kind: Literal["Workspace"]
    control_cluster: StrictStr = Field(alias="controlCluster")
    clusters: list[ClusterSpec]
    settings: SettingsSpec | None = None
    repositories: RepositoriesSpec | None = None
    users: dict[StrictStr, UserSpec] | None = None
    rbac: RbacSpec | None = None
    inventory: InventorySpec | None = None
    console: ConsoleSpec | None = None


class WorkspaceSchemaError(ValueError):
    """The first problem found, as `field.path: what is wrong` (one line)."""


_EXPECTED = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
}


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "list[str]", "function-after", "function-before"):
            continue  # union branch names pydantic adds to a location
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _sentence(err: Any) -> str:
    kind = err["type"]
    where = _where(tuple(err["loc"]))
    if kind == "missing":
        return f"{where}: required field missing"
    if kind in _EXPECTED:
        return f"{where}: {_EXPECTED[kind]}, got {_shown(err.get('input'))}"
    if kind == "literal_error":
        expected = (err.get("ctx") or {}).get("expected", "")
        return f"{where}: must be one of {expected}, got {_shown(err.get('input'))}"
    if kind == "greater_than_equal":
        return f"{where}: must be at least {(err.get('ctx') or {}).get('ge')}, got {_shown(err.get('input'))}"
    return f"{where}: {err.get('msg', 'invalid value')}"


def validate(doc: Any) -> WorkspaceSpec:
    """The parsed workspace file, or WorkspaceSchemaError naming the first bad field."""
    if not isinstance(doc, dict):
        raise WorkspaceSchemaError(f"(top level): must be a mapping, got {_shown(doc)}")
    try:
        return WorkspaceSpec.model_validate(doc)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # in a union (str | list[str]) pydantic reports one error per branch; the first is enough
        raise WorkspaceSchemaError(_sentence(errors[0])) from None
