"""yamlsafe parse cost on a large manifest: N Deployments as one YAML stream and as one JSON List.

Prints figures, asserts nothing. The YAML path pays for the alias/depth event scan plus the
duplicate-key check during construction (CSafeLoader throughout); the JSON path for the nesting
pre-scan and the duplicate-key hook. Usage: python bench/yamlsafe_load.py [--objects 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
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


def timed(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    objs = [deployment(i) for i in range(args.objects)]
    text = yaml.dump_all(objs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": objs})
    print(
        f"YAML stream: {len(text) / 1e6:.2f} MB, {args.objects} Deployments; JSON List: {len(doc) / 1e6:.2f} MB"
    )
    raw = timed(lambda: list(yaml.load_all(text, Loader=_Loader)), args.runs)  # noqa: S506 - safe loader
    safe = timed(lambda: yamlsafe.load_all(text, "bench.yaml", max_bytes=64 << 20), args.runs)
    print(f"yaml.load_all (CSafeLoader, no checks): {raw:.3f} s")
    print(f"yamlsafe.load_all YAML:                 {safe:.3f} s  ({safe / raw:.2f}x)")
    raw_json = timed(lambda: json.loads(doc), args.runs)
    safe_json = timed(lambda: yamlsafe.load_all(doc, "bench.json", max_bytes=64 << 20), args.runs)
    print(f"json.loads (no checks):                 {raw_json:.3f} s")
    print(f"yamlsafe.load_all JSON:                 {safe_json:.3f} s  ({safe_json / raw_json:.2f}x)")


if __name__ == "__main__":
    main()
