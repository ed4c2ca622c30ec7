#!/usr/bin/env python3
"""Take a screenshot of Prometheus' graph page for one expression, and check it shows data.

    screenshot.py --prometheus http://HOST:9090 [--expr EXPR] [--range 15m] --out build/NAME.png

Opens the Prometheus 3 web UI's query page in graph mode for EXPR over the last RANGE
(`/query?g0.expr=EXPR&g0.tab=graph&g0.range_input=RANGE&...`, the URL parameters of
web/ui/mantine-ui/src/pages/query/urlStateEncoding.ts) in headless Chromium (Debian's
`chromium` package) at a fixed window size, with enough virtual time for the app to fetch the
data and draw, and saves the PNG. Then it checks that the picture shows plotted data:

1. `/api/v1/query_range` over the same range must return at least one series with samples
   (otherwise: "no data");
2. the page, rendered again the same way (`--dump-dom`), must hold a uPlot chart and no alert
   (the UI's "Empty query result", "Error executing query: ..."); its legend's rows are counted;
3. the PNG, below the page's controls (PLOT_TOP), must hold a line in the colour of at least
   one of the series the graph draws (the UI colours series i with colorPool[i],
   web/ui/mantine-ui/src/pages/query/colorPool.ts; greys, which text shares, are left out),
   spread over at least MIN_COLUMNS pixel columns: a plotted line, not a legend swatch.

It prints the PNG's path, then one line describing it (series count, legend rows, coloured
pixels and columns) and exits 0; on any failure it exits 1 with a message saying which check
failed. The PNG is written in either case, to look at. The default expression is the ILP connectors' packet rate
(interledgerjs connectors, ilp-connector 23: ilp_connector_incoming_ilp_packets, as the
ilp:packets:rate1m recording rules of roles/prometheus read it).
Needs only Python's standard library and a `chromium` (or `chromium-browser`) on PATH or named
by --chromium.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

DEFAULT_EXPR = "sum by (instance) (rate(ilp_connector_incoming_ilp_packets[1m]))"
WINDOW = (1400, 900)
VIRTUAL_TIME_MS = 15000
# A plotted series covers at least this many pixel columns in its colour; a legend swatch or a
# stray anti-aliased pixel does not.
MIN_COLUMNS = 40
# Per channel, how far a pixel may be from a series colour (anti-aliasing, sub-pixel lines).
TOLERANCE = 24
# Pixels greyer than this (max - min channel) are never series pixels.
MIN_PIXEL_CHROMA = 16
# Rows above this (at the default window width) hold the navigation bar, the expression editor
# (whose syntax colours resemble series colours), the tabs and the range controls; the graph and
# its legend are below.
PLOT_TOP = 240

# The light theme's series colours, in order (colorPool.ts, Prometheus 3.16.0); the dark theme
# lightens each by 0.4 towards white (Mantine's lighten()).
COLOR_POOL = """
008000 008080 800000 800080 808000 808080 0000c0 008040 0080c0 800040 8000c0 808040 8080c0
00c000 00c080 804000 804080 80c000 80c080 0040c0 00c040 00c0c0 804040 8040c0 80c040 80c0c0
408000 408080 c00000 c00080 c08000 c08080 4000c0 408040 4080c0 c00040 c000c0 c08040 c080c0
404000 404080 40c000 40c080 c04000 c04080 c0c000 c0c080 404040 4040c0 40c040 40c0c0 c04040
c040c0 c0c040 0000a0 008020 0080a0 800020 8000a0 808020 8080a0 0000e0 008060 0080e0 800060
8000e0 808060 8080e0 0040a0 00c020 00c0a0 804020
""".split()

DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


class CheckFailed(Exception):
    """A check of the screenshot failed; the message says which and why."""


def parse_duration(text: str) -> float:
    match = DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a Prometheus duration such as 15m or 1h: {text!r}")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


def chroma(rgb) -> int:
    return max(rgb[0], rgb[1], rgb[2]) - min(rgb[0], rgb[1], rgb[2])


def series_colors(count: int) -> list[tuple[int, int, int]]:
    """The colours of the first `count` series, light and dark theme, leaving out those that a
    grey pixel (text, its anti-aliased edges, grid lines, borders) could match within TOLERANCE:
    chroma up to 2 * TOLERANCE, such as #808080 or #8080a0."""
    colors = []
    for hexa in COLOR_POOL[:max(count, 1)]:
        rgb = tuple(int(hexa[i:i + 2], 16) for i in (0, 2, 4))
        for variant in (rgb, tuple(round(c + (255 - c) * 0.4) for c in rgb)):
            if chroma(variant) > 2 * TOLERANCE and variant not in colors:
                colors.append(variant)
    return colors


def graph_url(base: str, expr: str, range_text: str) -> str:
    params = {"g0.expr": expr, "g0.show_tree": "0", "g0.tab": "graph", "g0.range_input": range_text,
              "g0.res_type": "auto", "g0.res_density": "medium", "g0.display_mode": "lines",
              "g0.show_exemplars": "0"}
    return f"{base.rstrip('/')}/query?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"


def query_range(base: str, expr: str, seconds: float) -> list[dict]:
    """The series /api/v1/query_range returns for expr over the last `seconds` (about 250
    points), those with at least one sample."""
    end = time.time()
    params = urllib.parse.urlencode({"query": expr, "start": f"{end - seconds:.3f}", "end": f"{end:.3f}",
                                     "step": f"{max(seconds / 250, 1):.3f}"})
    url = f"{base.rstrip('/')}/api/v1/query_range?{params}"
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")[:300]
        raise CheckFailed(f"query_range answered HTTP {err.code}: {detail}") from err
    except (urllib.error.URLError, OSError) as err:
        raise CheckFailed(f"query_range: cannot reach {base}: {err}") from err
    if body.get("status") != "success":
        raise CheckFailed(f"query_range: {body.get('errorType')}: {body.get('error')}")
    return [s for s in body["data"]["result"] if s.get("values")]


def find_chromium(name: str | None) -> str:
    for candidate in ([name] if name else ["chromium", "chromium-browser"]):
        path = shutil.which(candidate)
        if path:
            return path
    raise CheckFailed("no chromium on PATH: install Debian's package (apt-get install -y chromium) "
                      "or name the browser with --chromium")


def run_chromium(chromium: str, url: str, window: tuple[int, int], budget_ms: int, action: list[str]) -> str:
    """Headless Chromium loads url with a fresh profile and runs it for budget_ms of virtual time
    (the app's fetches and drawing finish within it), then does `action` (--screenshot=PATH or
    --dump-dom). Returns its standard output."""
    with tempfile.TemporaryDirectory(prefix="screenshot-chromium-") as profile:
        cmd = [chromium, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--no-default-browser-check", "--disable-extensions", "--mute-audio",
               f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}",
               f"--virtual-time-budget={budget_ms}", "--run-all-compositor-stages-before-draw",
               *action, url]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        except subprocess.TimeoutExpired as err:
            raise CheckFailed(f"chromium did not finish within 120 s: {url}") from err
    if res.returncode != 0:
        raise CheckFailed(f"chromium failed (exit {res.returncode}): {res.stderr.strip()[-500:]}")
    return res.stdout


def take_screenshot(chromium: str, url: str, out: Path, window: tuple[int, int], budget_ms: int) -> None:
    """A window-sized PNG of the page at out."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    run_chromium(chromium, url, window, budget_ms, [f"--screenshot={out.resolve()}"])
    if not out.exists():
        raise CheckFailed(f"chromium wrote no screenshot to {out}")


def rendered_page(chromium: str, url: str, window: tuple[int, int], budget_ms: int) -> str:
    """The page's DOM after its scripts ran (--dump-dom)."""
    return run_chromium(chromium, url, window, budget_ms, ["--dump-dom"])


def check_dom(dom: str) -> int:
    """What the query page shows, from its rendered DOM: an alert (the UI's "Empty query result"
    or "Error executing query: ...") fails; so does a page without a uPlot chart. Returns the
    number of series in the chart's legend."""
    for alert in re.finditer(r'mantine-Alert-title[^>]*>(.*?)</div>\s*(?:<div[^>]*mantine-Alert-message[^>]*>(.*?)</div>)?',
                             dom, re.S):
        text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", " ".join(g for g in alert.groups() if g)).split()))
        # The UI's query notices and warnings (such as "metric might not be a counter") come with a
        # graph; an empty result or an error comes instead of one.
        if not re.match(r"(Query )?(notice|warning)", text, re.I):
            raise CheckFailed(f"the page shows an alert instead of a graph: {text}")
    if 'class="u-over"' not in dom:
        raise CheckFailed("the page shows no graph (no uPlot chart in its DOM): it may not have rendered "
                          "(raise --virtual-time), or the URL is not a Prometheus 3 query page")
    return len(re.findall(r'<tr class="u-series', dom))


def unfilter(rows: bytes, width: int, height: int, bpp: int) -> list[bytearray]:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth) of non-interlaced 8-bit data."""
    stride = width * bpp
    previous = bytearray(stride)
    lines = []
    pos = 0
    for _row in range(height):
        kind = rows[pos]
        line = bytearray(rows[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif kind != 0:
            raise CheckFailed(f"unknown PNG filter {kind}")
        lines.append(line)
        previous = line
    return lines


def read_png(path: Path) -> tuple[int, int, int, list[bytearray]]:
    """Width, height, bytes per pixel and rows of an 8-bit RGB or RGBA, non-interlaced PNG (what
    Chromium writes)."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise CheckFailed(f"{path} is not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    if header is None:
        raise CheckFailed(f"{path}: no IHDR chunk")
    width, height, depth, color_type, _compression, _filter, interlace = header
    if depth != 8 or color_type not in (2, 6) or interlace:
        raise CheckFailed(f"{path}: unsupported PNG (depth {depth}, colour type {color_type}, interlace {interlace})")
    bpp = 3 if color_type == 2 else 4
    return width, height, bpp, unfilter(zlib.decompress(b"".join(idat)), width, height, bpp)


def colored_pixels(path: Path, colors: list[tuple[int, int, int]], top: int = 0) -> tuple[int, int]:
    """How many pixels of the PNG, from row `top` down, are within TOLERANCE of one of the
    colours, and over how many distinct pixel columns they lie."""
    width, _height, bpp, rows = read_png(path)
    count, columns = 0, set()
    for line in rows[top:]:
        for x in range(width):
            i = x * bpp
            r, g, b = line[i], line[i + 1], line[i + 2]
            if max(r, g, b) - min(r, g, b) < MIN_PIXEL_CHROMA:
                continue  # grey: text, grid, borders
            for cr, cg, cb in colors:
                if abs(r - cr) <= TOLERANCE and abs(g - cg) <= TOLERANCE and abs(b - cb) <= TOLERANCE:
                    count += 1
                    columns.add(x)
                    break
    return count, len(columns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", required=True, help="base URL of Prometheus, e.g. http://HOST:9090")
    parser.add_argument("--expr", default=DEFAULT_EXPR, help=f"PromQL expression (default: {DEFAULT_EXPR})")
    parser.add_argument("--range", default="15m", dest="range_text",
                        help="graph range, a Prometheus duration (default: 15m)")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write (keep it under build/)")
    parser.add_argument("--chromium", help="browser binary (default: chromium or chromium-browser on PATH)")
    parser.add_argument("--window", default=f"{WINDOW[0]}x{WINDOW[1]}", help="window size WxH (default: %(default)s)")
    parser.add_argument("--allow-zero", action="store_true",
                        help="accept a graph whose samples are all 0 (by default it is no plotted data)")
    parser.add_argument("--wait", type=float, default=60,
                        help="seconds to wait for the expression to have data before the picture (default: %(default)s)")
    parser.add_argument("--virtual-time", type=int, default=VIRTUAL_TIME_MS,
                        help="virtual time in ms for the page to load and draw (default: %(default)s)")
    args = parser.parse_args()
    try:
        seconds = parse_duration(args.range_text)
        width, height = (int(v) for v in args.window.lower().split("x"))
    except (argparse.ArgumentTypeError, ValueError) as err:
        parser.error(str(err))
    url = graph_url(args.prometheus, args.expr, args.range_text)
    try:
        chromium = find_chromium(args.chromium)
        # The data first (a recording rule's first samples come an evaluation interval after the
        # traffic): the picture is taken once Prometheus has them, or the check fails with "no data".
        def drawn(found):
            return found and (args.allow_zero or any(float(v) != 0 for one in found for dummy, v in one["values"]))

        deadline = time.monotonic() + args.wait
        series = query_range(args.prometheus, args.expr, seconds)
        while not drawn(series) and time.monotonic() < deadline:
            time.sleep(2)
            series = query_range(args.prometheus, args.expr, seconds)
        if not series:
            # The empty graph is kept all the same, for the record.
            take_screenshot(chromium, url, args.out, (width, height), args.virtual_time)
            print(args.out)
            raise CheckFailed(f"no data: /api/v1/query_range returned no series for {args.expr!r} "
                              f"over the last {args.range_text} (waited {args.wait:g} s); the graph is empty")
        legend = check_dom(rendered_page(chromium, url, (width, height), args.virtual_time))
        take_screenshot(chromium, url, args.out, (width, height), args.virtual_time)
        print(args.out)
        if not drawn(series):
            raise CheckFailed(f"every sample of {args.expr!r} over the last {args.range_text} is 0: the graph is a "
                              "flat line at zero (no traffic in the range; a counter's first increment makes a "
                              "series rate() cannot see)")
        pixels, columns = colored_pixels(args.out, series_colors(len(series)), PLOT_TOP)
        if columns < MIN_COLUMNS:
            raise CheckFailed(f"no plotted line in the picture: {pixels} pixels in the colours of "
                              f"{len(series)} series over {columns} columns (needs {MIN_COLUMNS}); "
                              f"the page may not have rendered (raise --virtual-time) or shows an error")
    except CheckFailed as err:
        print(f"screenshot check FAILED: {err} ({url})", file=sys.stderr)
        return 1
    print(f"{args.out}: {len(series)} series of {args.expr!r} over {args.range_text} "
          f"({legend} in the graph's legend), {pixels} pixels in series colours over {columns} "
          f"columns ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
