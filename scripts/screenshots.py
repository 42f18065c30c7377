"""Regenerate screenshots/*.svg of every console screen on a fresh demo workspace (`make screenshots`)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.demo.bootstrap import init_demo  # noqa: E402
from console.engine.refresh import refresh  # noqa: E402
from console.tui.app import TrueupApp  # noqa: E402

SECRET = "demo-s3cr3t-value"


async def shoot(ws_dir: Path, out: Path) -> list[Path]:
    from console.engine.workspace import load

    written = []
    for w, h in ((80, 24), (120, 36)):
        app = TrueupApp(load(ws_dir), poll_seconds=0)
        async with app.run_test(size=(w, h)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            svg = app.export_screenshot(title="trueup — applications")
        if SECRET in svg:
            raise SystemExit("refusing to write a screenshot that contains the demo secret")
        path = out / f"applications-{w}x{h}.svg"
        path.write_text(svg)
        written.append(path)
    return written


def main() -> None:
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_demo(Path(tmp) / "demo")
        refresh(ws)
        for p in asyncio.run(shoot(ws.root, out)):
            print(p.relative_to(ROOT))


if __name__ == "__main__":
    main()
