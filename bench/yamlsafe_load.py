"""yamlsafe parse cost on a large manifest: N Deployments as one YAML stream and as one JSON List.

Prints figures (fastest of --runs, interleaved), asserts nothing. The YAML path pays for the alias/depth event scan plus the
duplicate-key check during construction (CSafeLoader throughout); the JSON path for the nesting
pre-scan and the duplicate-key hook. Usage: python bench/yamlsafe_load.py [--objects 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.engine import yamlsafe  # noqa: E402

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def deployment(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": f"web-{i}",
            "namespace": "shop",
            "labels": {"app": f"web-{i}", "team": "payments", "tier": "frontend"},
            "annotations": {"argocd.argoproj.io/sync-wave": "1"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": f"web-{i}"}},
            "template": {
                "metadata": {"labels": {"app": f"web-{i}"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": f"registry.example.com/web:{i}.0.1",
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "env": [{"name": f"VAR_{k}", "value": str(k)} for k in range(5)],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "1", "memory": "512Mi"},
                            },
                        }
                    ]
                },
            },
        },
    }


def best(fns: dict[str, Any], runs: int) -> dict[str, float]:
    """Fastest of `runs`, the candidates interleaved so machine noise hits them alike."""
    out = {name: float("inf") for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            out[name] = min(out[name], time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    objs = [deployment(i) for i in range(args.objects)]
    text = yaml.dump_all(objs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": objs})
    print(
        f"YAML stream: {len(text) / 1e6:.2f} MB, {args.objects} Deployments; JSON List: {len(doc) / 1e6:.2f} MB"
    )
    t = best(
        {
            "raw": lambda: list(yaml.load_all(text, Loader=_Loader)),  # noqa: S506 - safe loader
            "safe": lambda: yamlsafe.load_all(text, "bench.yaml", max_bytes=64 << 20),
            "raw_json": lambda: json.loads(doc),
            "safe_json": lambda: yamlsafe.load_all(doc, "bench.json", max_bytes=64 << 20),
        },
        args.runs,
    )
    print(f"yaml.load_all (CSafeLoader, no checks): {t['raw']:.3f} s")
    print(f"yamlsafe.load_all YAML:                 {t['safe']:.3f} s  ({t['safe'] / t['raw']:.2f}x)")
    print(f"json.loads (no checks):                 {t['raw_json']:.4f} s")
    print(
        f"yamlsafe.load_all JSON:                 {t['safe_json']:.4f} s  ({t['safe_json'] / t['raw_json']:.2f}x)"
    )


if __name__ == "__main__":
    main()
