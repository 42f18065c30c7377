"""GIT_ASKPASS helper: answers git's username/password prompts from the OS keyring.

git runs `askpass.sh "Username for 'https://host': "` (then "Password for ..."); the keyring entry
to read is named by TRUEUP_ASKPASS_KEY, set by GitCache for that one command. The secret goes to
git through this process's stdout only: never argv, a URL, the environment or a file.
"""

from __future__ import annotations

import os
import re
import sys
from urllib.parse import urlsplit

_PROMPT_URL = re.compile(r"'([A-Za-z][A-Za-z0-9+.\-]*://[^']*)'")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def prompt_matches(prompt: str, url: str) -> bool:
    """The prompt asks for the origin the credential belongs to (a redirect to another host must
    never receive it): "Password for 'https://user@host:port': " against the fetch URL."""
    m = _PROMPT_URL.search(prompt)
    return m is not None and _origin(m.group(1)) == _origin(url)


def main(argv: list[str]) -> int:
    key = os.environ.get("TRUEUP_ASKPASS_KEY", "")
    prompt = argv[1] if len(argv) > 1 else ""
    if not key:
        return 1  # no credential registered for this URL: fail at once, never prompt
    if not prompt_matches(prompt, os.environ.get("TRUEUP_ASKPASS_URL", "")):
        print("trueup askpass: credentials requested for another server; refused", file=sys.stderr)
        return 1
    from console.engine import credentials

    try:
        cred = credentials.load(key)
    except credentials.CredentialStoreUnavailable as exc:
        print(f"trueup askpass: {exc}", file=sys.stderr)
        return 1
    if cred is None:
        print(f"trueup askpass: no keyring entry {key}", file=sys.stderr)
        return 1
    value = cred.username if prompt.lower().startswith("username") else cred.password
    sys.stdout.write(value + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
