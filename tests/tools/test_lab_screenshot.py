"""Tests of tools/lab/screenshot.py: the graph page URL, the PNG reader, and the verdict on a
picture (a plotted line passes; an empty graph, or no data, fails with a clear message)."""
from __future__ import annotations

import importlib.util
import struct
import sys
import urllib.parse
import zlib
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lab_screenshot", TOP / "tools/lab/screenshot.py")
shot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shot)

WHITE = (255, 255, 255)
GREEN = (0x00, 0x80, 0x00)  # colorPool[0], the first series


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def write_png(path: Path, pixels: list[list[tuple[int, int, int]]], bpp: int = 3, filters=(0,)) -> Path:
    """An 8-bit RGB (bpp 3) or RGBA (bpp 4) PNG, row i filtered with filters[i % len(filters)]."""
    height, width = len(pixels), len(pixels[0])
    raw, previous = bytearray(), bytearray(width * bpp)
    for y, row in enumerate(pixels):
        line = bytearray()
        for rgb in row:
            line += bytes(rgb) + (b"\xff" if bpp == 4 else b"")
        kind = filters[y % len(filters)]
        out = bytearray()
        for i, value in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            pred = {0: 0, 1: a, 2: b, 3: (a + b) >> 1, 4: _paeth(a, b, c)}[kind]
            out.append((value - pred) & 0xFF)
        raw += bytes([kind]) + out
        previous = line

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2 if bpp == 3 else 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw)))
                     + chunk(b"IEND", b""))
    return path


def picture(width=200, height=60, line=None, swatch=False):
    """A white picture with a horizontal line (x0, x1, y, colour) and/or a 10x10 green swatch."""
    pixels = [[WHITE] * width for dummy in range(height)]
    if line:
        x0, x1, y, colour = line
        for x in range(x0, x1):
            pixels[y][x] = colour
            pixels[y + 1][x] = colour
    if swatch:
        for y in range(5, 15):
            for x in range(5, 15):
                pixels[y][x] = GREEN
    return pixels


def test_graph_url_uses_the_prometheus_3_query_page_parameters():
    url = shot.graph_url("http://h:9090/", "sum by (instance) (rate(x[1m]))", "15m")
    parsed = urllib.parse.urlparse(url)
    assert parsed.path == "/query"
    params = dict(urllib.parse.parse_qsl(parsed.query))
    assert params["g0.expr"] == "sum by (instance) (rate(x[1m]))"
    assert params["g0.tab"] == "graph" and params["g0.range_input"] == "15m"
    assert "+" not in parsed.query, "spaces are %20, as the UI's URLSearchParams reads either way"


@pytest.mark.parametrize("bpp", [3, 4])
def test_read_png_undoes_every_filter(tmp_path, bpp):
    pixels = [[((x * 37 + y * 11) % 256, (x * 5) % 256, (y * 91) % 256) for x in range(17)] for y in range(10)]
    path = write_png(tmp_path / "f.png", pixels, bpp=bpp, filters=(0, 1, 2, 3, 4))
    width, height, got_bpp, rows = shot.read_png(path)
    assert (width, height, got_bpp) == (17, 10, bpp)
    for y, row in enumerate(rows):
        assert [tuple(row[x * bpp:x * bpp + 3]) for x in range(width)] == pixels[y]


def test_series_colours_leave_out_greys_and_add_the_dark_theme():
    colours = shot.series_colors(6)  # the 6th colour, #808080, is grey
    assert (0x00, 0x80, 0x00) in colours and (0x66, 0xb3, 0x66) in colours
    assert (0x80, 0x80, 0x80) not in colours
    assert len(colours) == 10


def test_a_plotted_line_counts_and_a_legend_swatch_does_not(tmp_path):
    line = write_png(tmp_path / "line.png", picture(line=(20, 180, 30, GREEN), swatch=True))
    pixels, columns = shot.colored_pixels(line, shot.series_colors(1))
    assert columns == 160 + 10 and pixels == 320 + 100
    swatch = write_png(tmp_path / "swatch.png", picture(swatch=True))
    pixels, columns = shot.colored_pixels(swatch, shot.series_colors(1))
    assert pixels == 100 and columns == 10 < shot.MIN_COLUMNS


def test_rows_above_the_plot_are_not_counted(tmp_path):
    """The expression editor's syntax colours (above PLOT_TOP in a real page) do not count."""
    path = write_png(tmp_path / "top.png", picture(line=(20, 180, 3, GREEN)))
    assert shot.colored_pixels(path, shot.series_colors(1), top=10) == (0, 0)
    assert shot.colored_pixels(path, shot.series_colors(1), top=4) == (160, 160)


# Fragments of the query page's DOM after its scripts ran (chromium --dump-dom), Prometheus 3.16.0.
CHART_DOM = ('<div class="u-wrap"><div class="u-under"></div><canvas width="1323" height="550"></canvas>'
             '<div class="u-over" style="left: 42px; top: 17px;"></div></div><table class="u-legend u-inline">'
             '<tr class="u-series"><th>{job="a"}</th></tr><tr class="u-series"><th>{job="b"}</th></tr></table>')
ERROR_DOM = ('<div class="m_667c2793 mantine-Alert-body"><div class="m_6a03f287 mantine-Alert-title"><span '
             'class="m_698f4f23 mantine-Alert-label">Error executing query</span></div><div class="m_7fa78076 '
             'mantine-Alert-message">invalid parameter &quot;query&quot;: 1:8: parse error: unclosed left '
             'parenthesis</div></div>')
EMPTY_DOM = ('<div class="m_6a03f287 mantine-Alert-title"><span class="m_698f4f23 mantine-Alert-label">Empty query '
             'result</span></div><div class="m_7fa78076 mantine-Alert-message">This query returned no data.</div>')


def test_check_dom_counts_the_legend_and_refuses_alerts_or_no_chart():
    assert shot.check_dom(CHART_DOM) == 2
    with pytest.raises(shot.CheckFailed, match=r'Error executing query invalid parameter "query": 1:8: parse error'):
        shot.check_dom(ERROR_DOM)
    with pytest.raises(shot.CheckFailed, match="Empty query result This query returned no data."):
        shot.check_dom(EMPTY_DOM)
    with pytest.raises(shot.CheckFailed, match="no graph"):
        shot.check_dom("<div id=root></div>")
    # A query notice (an info annotation of the query) comes with the graph, and does not fail it.
    notice = ('<div class="m_6a03f287 mantine-Alert-title"><span class="m_698f4f23 mantine-Alert-label">Query notice'
              '</span></div><div class="m_7fa78076 mantine-Alert-message">PromQL info: metric might not be a counter, '
              'name does not end in _total/_sum/_count/_bucket</div>')
    assert shot.check_dom(notice + CHART_DOM) == 2
    with pytest.raises(shot.CheckFailed, match="Empty query result"):
        shot.check_dom(notice + EMPTY_DOM)


def _run_main(monkeypatch, tmp_path, pixels, series, capsys, dom=None):
    out = tmp_path / "build" / "shot.png"
    dom = CHART_DOM if dom is None else dom

    def fake_screenshot(_chromium, _url, path, _window, _budget):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(path, pixels)

    monkeypatch.setattr(shot, "PLOT_TOP", 0)  # the small test pictures have no page header
    monkeypatch.setattr(shot, "find_chromium", lambda name: "chromium")
    monkeypatch.setattr(shot, "take_screenshot", fake_screenshot)
    monkeypatch.setattr(shot, "rendered_page", lambda chromium, url, window, budget: dom)
    monkeypatch.setattr(shot, "query_range", lambda base, expr, seconds: series)
    monkeypatch.setattr(sys, "argv", ["screenshot.py", "--prometheus", "http://h:9090", "--expr", "up", "--wait", "0",
                                      "--range", "15m", "--out", str(out)])
    code = shot.main()
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_main_passes_on_a_plotted_series(monkeypatch, tmp_path, capsys):
    code, out, err = _run_main(monkeypatch, tmp_path, picture(line=(10, 190, 20, GREEN)),
                               [{"metric": {}, "values": [[1, "1"]]}], capsys)
    assert code == 0, err
    assert "1 series" in out and "(2 in the graph's legend)" in out
    assert "360 pixels in series colours over 180 columns" in out


def test_main_fails_when_the_page_shows_an_error(monkeypatch, tmp_path, capsys):
    code, _out, err = _run_main(monkeypatch, tmp_path, picture(line=(10, 190, 20, GREEN)),
                                [{"metric": {}, "values": [[1, "1"]]}], capsys, dom=ERROR_DOM)
    assert code == 1 and "shows an alert instead of a graph: Error executing query" in err


def test_main_fails_when_the_query_has_no_data(monkeypatch, tmp_path, capsys):
    code, out, err = _run_main(monkeypatch, tmp_path, picture(), [], capsys)
    assert code == 1
    assert "no data" in err and "'up'" in err
    assert out.strip().endswith("shot.png"), "the PNG's path is printed all the same"


def test_main_fails_when_the_picture_shows_no_line(monkeypatch, tmp_path, capsys):
    code, _out, err = _run_main(monkeypatch, tmp_path, picture(swatch=True),
                                [{"metric": {}, "values": [[1, "1"]]}], capsys)
    assert code == 1
    assert "no plotted line in the picture" in err and "over 10 columns" in err


def test_range_must_be_a_prometheus_duration(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["screenshot.py", "--prometheus", "http://h", "--range", "15 minutes",
                                      "--out", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit) as err:
        shot.main()
    assert err.value.code == 2


def test_main_waits_for_the_data_before_the_picture(monkeypatch, tmp_path, capsys):
    """A recording rule's first samples come an evaluation after the traffic: the picture is taken
    once query_range has them, not before (the cold lab's first run pictured an empty graph)."""
    answers = [[], [], [{"metric": {}, "values": [[1, "1"]]}]]
    events = []

    def fake_query_range(base, expr, seconds):
        events.append("query")
        return answers.pop(0) if answers else [{"metric": {}, "values": [[1, "1"]]}]

    def fake_screenshot(_chromium, _url, path, _window, _budget):
        events.append("screenshot")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(path, picture(line=(10, 190, 20, GREEN)))

    out = tmp_path / "build" / "shot.png"
    monkeypatch.setattr(shot, "PLOT_TOP", 0)
    monkeypatch.setattr(shot, "find_chromium", lambda name: "chromium")
    monkeypatch.setattr(shot, "take_screenshot", fake_screenshot)
    monkeypatch.setattr(shot, "rendered_page", lambda chromium, url, window, budget: CHART_DOM)
    monkeypatch.setattr(shot, "query_range", fake_query_range)
    monkeypatch.setattr(shot.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(sys, "argv", ["screenshot.py", "--prometheus", "http://h:9090", "--expr", "up", "--wait", "30",
                                      "--out", str(out)])
    assert shot.main() == 0, capsys.readouterr().err
    assert events == ["query", "query", "query", "screenshot"]


def test_main_fails_on_a_graph_flat_at_zero(monkeypatch, tmp_path, capsys):
    """Lines at 0 are drawn, but show no traffic: the first payments of fresh connectors create
    their counters, and rate() of a counter's first sample is nothing (the cold lab's picture)."""
    code, out, err = _run_main(monkeypatch, tmp_path, picture(line=(10, 190, 20, GREEN)),
                               [{"metric": {}, "values": [[1, "0"], [2, "0"]]}], capsys)
    assert code == 1
    assert "flat line at zero" in err
    assert out.strip().endswith("shot.png"), "the PNG's path is printed all the same"
