"""Screenshots of Prefect's V2 UI for the README, taken with headless Chromium from a running
stack (`misure stack`, e.g. `make run PORT=4310 API_PORT=8410`, after `publish-case-pages` has
published the case pages):

    python -m tests.support.ui_screenshots [--ui http://127.0.0.1:4310] [--case ATT-2026-000292]
    python -m tests.support.ui_screenshots --summary   # only count the flow runs

writes docs/prefect-case-page.png (a case's markdown artifact, with its mermaid diagram),
docs/prefect-office-queue.png (the artifact `coda-uiepe-to`) and docs/prefect-runs.png (the
runs page), and prints the flow runs per deployment and final state. Chromium comes from
Debian (`apt-get install -y chromium`)."""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1400
OFFICE = "coda-uiepe-to"
INDEX = "pratiche-indice"


def post(ui: str, path: str, body: dict) -> list | dict:
    request = urllib.request.Request(
        f"{ui}/api{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def flow_runs(ui: str) -> list[dict]:
    runs: list[dict] = []
    while True:
        page = post(ui, "/flow_runs/filter", {"limit": 200, "offset": len(runs)})
        runs += page
        if len(page) < 200:
            return runs


def summary(ui: str) -> list[dict]:
    runs = flow_runs(ui)
    flows = {f["id"]: f["name"] for f in post(ui, "/flows/filter", {"limit": 200})}
    deployments = {d["id"]: d["name"] for d in post(ui, "/deployments/filter", {"limit": 200})}
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for run in runs:
        name = f"{flows.get(run['flow_id'], run['flow_id'])}/"
        name += deployments.get(run["deployment_id"], str(run["deployment_id"]))
        counts[name][run["state_type"]] += 1
    print(f"{len(runs)} flow runs")
    for name in sorted(counts):
        states = ", ".join(f"{state} {n}" for state, n in sorted(counts[name].items()))
        print(f"  {name}: {sum(counts[name].values())} ({states})")
    return runs


def case_key(ui: str) -> str:
    """A case page that exists, preferably one at court (its diagram has five ways out)."""
    artifacts = post(
        ui, "/artifacts/latest/filter", {"limit": 200, "artifacts": {"key": {"like_": "case-att-"}}}
    )
    if not artifacts:
        raise SystemExit("no case-* artifact yet: has publish-case-pages run?")
    at_court = [a["key"] for a in artifacts if "(`at_court`)" in (a["data"] or "")]
    return sorted(at_court or [a["key"] for a in artifacts])[0]


def latest(ui: str, key: str) -> str:
    """The route of the latest version of the artifact `key`: /v2/artifacts/key/<key> shows only
    the timeline of its versions, /v2/artifacts/artifact/<id> the rendered markdown."""
    found = post(
        ui, "/artifacts/latest/filter", {"limit": 1, "artifacts": {"key": {"any_": [key]}}}
    )
    if not found:
        raise SystemExit(f"no artifact {key}")
    return f"/v2/artifacts/artifact/{found[0]['latest_id']}"


def shoot(ui: str, route: str, target: Path, height: int, budget: int) -> Path:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium: apt-get install -y chromium")
    subprocess.run(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{height}",
            f"--virtual-time-budget={budget}",
            f"--screenshot={target}",
            f"{ui}{route}",
        ],
        check=True,
        capture_output=True,
    )
    print(f"written {target} ({target.stat().st_size // 1024} KB) from {ui}{route}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ui", default="http://127.0.0.1:4310")
    parser.add_argument("--case", help="a case reference, e.g. ATT-2026-000292")
    parser.add_argument("--height", type=int, default=1400)
    parser.add_argument("--case-height", type=int, default=3700)
    parser.add_argument("--budget", type=int, default=30000, help="virtual time, ms")
    parser.add_argument("--summary", action="store_true", help="only count the flow runs")
    args = parser.parse_args()
    ui = args.ui.rstrip("/")
    summary(ui)
    found = {
        a["key"]
        for a in post(
            ui, "/artifacts/filter", {"limit": 5, "artifacts": {"key": {"any_": [INDEX, OFFICE]}}}
        )
    }
    print(f"artifacts {INDEX}: {INDEX in found}, {OFFICE}: {OFFICE in found}")
    if args.summary:
        return
    key = f"case-{args.case.lower()}" if args.case else case_key(ui)
    docs = ROOT / "docs"
    # the case page down to its mermaid diagram; the head of the office's queue; the runs
    shoot(ui, latest(ui, key), docs / "prefect-case-page.png", args.case_height, args.budget)
    shoot(ui, latest(ui, OFFICE), docs / "prefect-office-queue.png", args.height, args.budget)
    shoot(ui, "/v2/runs", docs / "prefect-runs.png", args.height, args.budget)


if __name__ == "__main__":
    main()
