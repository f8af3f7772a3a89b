"""Regenerate the README's screenshots (or take any others): start the app, open pages at the three
classroom sizes, save PNGs. Tests never write here; run this by hand when the pages change.

    python -m docs.screenshots                       # the README set, into docs/screenshots/
    python -m docs.screenshots --out /tmp/shots --pages step_through,gradients --sizes projector,phone --full
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.appserver import SIZES, browser, horizontal_overflow, serve_app, wait_for_app, wait_idle

ROOT = Path(__file__).resolve().parents[1]

README_SET = [("home", "", "laptop"), ("step_through", "step_through", "laptop"), ("memory", "memory", "laptop"),
              ("sentiment", "sentiment", "laptop"), ("gradients", "gradients", "laptop"),
              ("forecast", "forecast", "laptop"), ("step_through_projector", "step_through", "projector"),
              ("sentiment_phone", "sentiment", "phone"), ("architectures", "architectures", "laptop"),
              ("textgen", "textgen", "laptop"), ("compare", "compare", "laptop")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--pages", default=None, help="comma-separated url paths ('' = home); default: README set")
    ap.add_argument("--sizes", default="laptop,projector,phone")
    ap.add_argument("--full", action="store_true", help="whole page, not only the first screen")
    ap.add_argument("--query", default="", help="query string added to every URL, e.g. 'seed=3&st_hidden=8'")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.pages is None:
        shots = README_SET
    else:
        shots = [((p or "home") + "_" + s, p, s) for p in args.pages.split(",") for s in args.sizes.split(",")]
    with serve_app() as url, browser() as chromium:
        for name, path, size in shots:
            page = chromium.new_page(viewport=SIZES[size])
            page.goto(f"{url}/{path}" + (f"?{args.query}" if args.query else ""), wait_until="domcontentloaded")
            wait_for_app(page)
            file = out / f"{name}.png"
            if args.full:
                # Streamlit scrolls its main area, not the document: grow the window to the page's height
                # (the page's own width is kept), let it redraw, then take the whole of it.
                height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
                page.set_viewport_size({"width": SIZES[size]["width"], "height": min(int(height) + 40, 16_000)})
                wait_idle(page)
            page.screenshot(path=str(file))
            print(f"{file}  ({size}, horizontal overflow {horizontal_overflow(page)} px)")
            page.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
