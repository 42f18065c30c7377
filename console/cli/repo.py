"""`trueup repo add|list|rm` and `trueup repocreds add|list|rm` (Argo's credential templates).

Secrets enter only through stdin (`--password-stdin`) or a key file (`--ssh-private-key-path`),
go straight to the OS keyring, and are never echoed, logged or written to the workspace.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.cli.errors import CommandError
from console.cli.output import emit_json, one_line, table
from console.engine import credentials, repos, workspace_edit
from console.engine.sources import RepoError, helmrepo, validate_repo_url
from console.engine.workspace import Workspace, open_workspace

EXIT_DENIED, EXIT_UNREACHABLE = 3, 5


def _cred_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--username", default="", metavar="U", help="HTTPS user name (the password comes from stdin)"
    )
    p.add_argument(
        "--password-stdin", action="store_true", help="read the HTTPS password or token from stdin"
    )
    p.add_argument(
        "--ssh-private-key-path", default="", metavar="F", help="SSH private key file (stored in the keyring)"
    )
    p.add_argument("--type", choices=["git", "helm"], default="git", help="repository type (default git)")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    repo = sub.add_parser("repo", help="repositories and their credentials (kept in the OS keyring)")
    rs = repo.add_subparsers(dest="repo_command", metavar="SUBCOMMAND", required=True)
    add = rs.add_parser("add", help="register a repository (checks the connection first)")
    add.add_argument(
        "url", metavar="URL", help="repository URL (https://, ssh://, user@host:path; helm: http(s)://)"
    )
    _cred_flags(add)
    add.add_argument("--name", default="", help="a name for the repository")
    add.add_argument(
        "--insecure-ignore-host-key", action="store_true", help="SSH: do not check the server's host key"
    )
    add.add_argument(
        "--creds-template",
        action="store_true",
        help="register URL as a credential template (prefix), as `repocreds add`",
    )
    add.add_argument("--upsert", action="store_true", help="replace an existing registration")
    add.set_defaults(run=cmd_repo_add)
    ls = rs.add_parser("list", help="repositories with their connection state")
    ls.add_argument("-o", "--output", choices=["json"], metavar="json", help="output format")
    ls.set_defaults(run=cmd_repo_list)
    rm = rs.add_parser("rm", help="unregister a repository and delete its keyring entry")
    rm.add_argument("url", metavar="URL", help="repository URL")
    rm.set_defaults(run=cmd_repo_rm)

    rc = sub.add_parser(
        "repocreds", help="credential templates: credentials for every repository URL with a prefix"
    )
    rcs = rc.add_subparsers(dest="repocreds_command", metavar="SUBCOMMAND", required=True)
    radd = rcs.add_parser("add", help="register a credential template for a URL prefix")
    radd.add_argument("url", metavar="PREFIX", help="URL prefix, e.g. https://git.example.com/team/")
    _cred_flags(radd)
    radd.add_argument("--upsert", action="store_true", help="replace an existing template")
    radd.set_defaults(run=cmd_repocreds_add)
    rls = rcs.add_parser("list", help="credential templates")
    rls.add_argument("-o", "--output", choices=["json"], metavar="json", help="output format")
    rls.set_defaults(run=cmd_repocreds_list)
    rrm = rcs.add_parser("rm", help="remove a credential template and its keyring entry")
    rrm.add_argument("url", metavar="PREFIX", help="URL prefix")
    rrm.set_defaults(run=cmd_repocreds_rm)


def _ws(args: argparse.Namespace) -> Workspace:
    return open_workspace(getattr(args, "workspace", None))


def _credential(args: argparse.Namespace) -> tuple[str, credentials.Credential | None]:
    """(kind, credential) from the flags; the secret never touches argv."""
    if args.ssh_private_key_path and (args.username or args.password_stdin):
        raise CommandError(
            "give either --username/--password-stdin (HTTPS) or --ssh-private-key-path (SSH), not both"
        )
    if args.ssh_private_key_path:
        path = Path(args.ssh_private_key_path).expanduser()
        try:
            key = path.read_text()
        except OSError as exc:
            raise CommandError(
                f"cannot read SSH private key {args.ssh_private_key_path}: {exc.strerror or exc}"
            ) from None
        if "PRIVATE KEY" not in key:
            raise CommandError(f"{args.ssh_private_key_path} is not a PEM/OpenSSH private key")
        return "ssh", credentials.Credential(ssh_private_key=key)
    if args.password_stdin:
        if sys.stdin.isatty():
            print("Password: ", end="", file=sys.stderr, flush=True)
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin: nothing was read from stdin")
        return "https", credentials.Credential(username=args.username, password=password)
    if args.username:
        raise CommandError(
            "--username needs --password-stdin (the password is read from stdin, never from argv)"
        )
    return "none", None


def _normalized(url: str, kind: str) -> str:
    if kind == "helm":
        return url.rstrip("/")
    return validate_repo_url(url, allow_file=True)


def _state(ws: Workspace, url: str, kind: str) -> tuple[str, str]:
    try:
        if kind == "helm":
            helmrepo.check(repos.helm_repos(ws), url)
        else:
            repos.git_cache(ws).check(url)
    except RepoError as exc:
        return "Failed", one_line(str(exc), 300)
    return "Successful", ""


def cmd_repo_add(args: argparse.Namespace) -> int:
    if args.creds_template:
        return cmd_repocreds_add(args)
    ws = _ws(args)
    url = _normalized(args.url, args.type)
    kind, cred = _credential(args)
    existing = repos.registered(ws, url)
    if existing is not None and not args.upsert:
        raise CommandError(f"repository {url} is already registered; pass --upsert to replace it")
    key = credentials.repo_key(url)
    previous = (
        credentials.load(key) if (cred is not None or (existing and existing.credentials != "none")) else None
    )
    if cred is not None:
        credentials.store(key, cred)  # fails closed (no keyring): nothing was written yet
    entry: dict[str, Any] = {"url": url, "type": args.type, "credentials": kind}
    if args.name:
        entry["name"] = args.name
    if args.insecure_ignore_host_key:
        entry["insecureIgnoreHostKey"] = True
    before = workspace_edit.read_document(ws.root)
    new = workspace_edit.put_repo(ws, entry)
    status, message = _state(new, url, args.type)
    if status != "Successful":
        # as argocd: a repository that cannot be reached is not added; the previous state comes back
        def restore(doc: dict[str, Any]) -> None:
            doc.clear()
            doc.update(before)

        workspace_edit.edit(ws.root, restore)
        if cred is not None:
            if previous is not None:
                credentials.store(key, previous)
            else:
                credentials.delete(key)
        code = (
            EXIT_DENIED
            if "refused access" in message or "HTTP 401" in message or "HTTP 403" in message
            else EXIT_UNREACHABLE
        )
        raise CommandError(f"repository {url} was not added: {message}", code)
    print(f"Repository '{url}' added" + (f" (credentials: {kind}, in the OS keyring)" if cred else ""))
    return 0


def _repo_rows(ws: Workspace) -> list[dict[str, Any]]:
    rows = []
    for r in ws.repositories.repos:
        m = repos.match(ws, r.url)
        creds = r.credentials if r.credentials != "none" else ("template" if m is not None else "none")
        status, message = _state(ws, r.url, r.type)
        rows.append(
            {
                "repo": r.url,
                "type": r.type,
                "name": r.name,
                "credentials": creds,
                "insecureIgnoreHostKey": r.insecure_ignore_host_key,
                "mirror": _mirror(ws, r.url),
                "connectionState": {"status": status, "message": message},
            }
        )
    return rows


def _mirror(ws: Workspace, url: str) -> str:
    for prefix, mirror in sorted(ws.repositories.url_rewrites.items(), key=lambda kv: -len(kv[0])):
        if url.startswith(prefix):
            return mirror + url[len(prefix) :]
    return ""


def cmd_repo_list(args: argparse.Namespace) -> int:
    ws = _ws(args)
    rows = _repo_rows(ws)
    if args.output == "json":
        emit_json(rows)
        return 0
    table(
        ["TYPE", "NAME", "REPO", "CREDS", "STATUS", "MESSAGE"],
        [
            [
                r["type"],
                r["name"] or "-",
                r["repo"],
                r["credentials"],
                r["connectionState"]["status"],
                r["connectionState"]["message"],
            ]
            for r in rows
        ],
    )
    return 0


def cmd_repo_rm(args: argparse.Namespace) -> int:
    ws = _ws(args)
    found = repos.registered(ws, args.url)
    if found is None:
        raise CommandError(f"repository {args.url} is not registered (see `trueup repo list`)")
    workspace_edit.remove_repo(ws, found.url)
    if found.credentials != "none":
        try:
            credentials.delete(credentials.repo_key(repos.normalize(ws, found.url)))
        except credentials.CredentialStoreUnavailable as exc:
            print(f"trueup: warning: the keyring entry could not be deleted: {exc}", file=sys.stderr)
    print(f"Repository '{found.url}' removed")
    return 0


def cmd_repocreds_add(args: argparse.Namespace) -> int:
    ws = _ws(args)
    prefix = args.url
    kind, cred = _credential(args)
    if cred is None:
        raise CommandError(
            "a credential template needs credentials: --username U --password-stdin or --ssh-private-key-path F"
        )
    if any(t.url == prefix for t in ws.repositories.templates) and not getattr(args, "upsert", False):
        raise CommandError(f"credential template {prefix} already exists; pass --upsert to replace it")
    credentials.store(credentials.template_key(prefix), cred)
    workspace_edit.put_template(ws, {"url": prefix, "type": args.type, "credentials": kind})
    print(f"Repository credentials for '{prefix}' added (in the OS keyring)")
    return 0


def cmd_repocreds_list(args: argparse.Namespace) -> int:
    ws = _ws(args)
    rows = [{"url": t.url, "type": t.type, "credentials": t.credentials} for t in ws.repositories.templates]
    if args.output == "json":
        emit_json(rows)
        return 0
    table(["URL PATTERN", "TYPE", "CREDS"], [[r["url"], r["type"], r["credentials"]] for r in rows])
    return 0


def cmd_repocreds_rm(args: argparse.Namespace) -> int:
    ws = _ws(args)
    if not any(t.url == args.url for t in ws.repositories.templates):
        raise CommandError(f"credential template {args.url} does not exist (see `trueup repocreds list`)")
    workspace_edit.remove_template(ws, args.url)
    credentials.delete(credentials.template_key(args.url))
    print(f"Repository credentials for '{args.url}' removed")
    return 0
