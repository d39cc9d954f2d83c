"""Charts of a campaign history file, drawn by hand as SVG (and through gnuplot as PNG).

    plot HISTORY [--out DIR] [--png]

HISTORY is JSON Lines, one object per campaign (the row `refstorm campaign` appends).  Writes
into DIR (default: HISTORY's folder), each file atomically (a temporary name in DIR, fsync,
rename):

    trials-per-s.svg   trials per second of each variant, one line per variant
    buckets.svg        finding buckets: total (line), new and gone (bars) per campaign
    detection.svg      trials to the first detection of each mutant (log scale; campaigns
                       where a mutant was run but not detected are drawn on a "none" band
                       above the axis).  Only when some row has a `mutants` object.

The x axis is the campaigns in file order, evenly spaced (so equal dates stay apart), labelled
with a short date and the commit.  Every data point is an SVG element with class "marker" and
attributes data-series and data-row (the index of the row among the rows plotted).

With --png, or whenever gnuplot is on PATH, the same charts are also written as PNG through
gnuplot (data files and a script in a temporary folder).  --png without gnuplot says so and
still exits 0 with the SVGs; a gnuplot failure is a warning, never an error.

Rows whose `format` is not 1 are skipped with a warning on stderr; missing or mistyped fields
are tolerated (the point is left out).  A line that is not a JSON object is an input error:
`HISTORY:LINE: message` on stderr and exit 2.  Exit status: 0 ok, 2 usage or input error (also
an output folder that cannot be written).

render(rows, out_dir) writes the SVGs of already parsed rows and returns the paths written;
main(argv) is the command line (argv without the program name).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from xml.sax.saxutils import escape

from . import journal

FORMAT = 1
WIDTH, HEIGHT = 800, 360
# plot area margins (the bottom one grows with the legend's rows)
LEFT, RIGHT, TOP = 70, 24, 40
XLABELS = 40     # two lines of x tick labels
LEGEND_ROW = 16
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
VARIANT_COLOURS = {"asan": "#1f77b4", "tsan": "#ff7f0e", "release": "#2ca02c"}
SHAPES = ["circle", "square", "triangle", "diamond"]
MAX_XLABELS = 12


class HistoryError(Exception):
    """A malformed history line: str() is `PATH:LINE: message`."""


def warn(msg):
    print(f"plot: {msg}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# reading

def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def load_history(path):
    """The format-1 rows of a history file, in file order.  Raises HistoryError on a line that
    is not a JSON object, OSError if the file cannot be read."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_constant=_reject_constant)
            except (ValueError, RecursionError) as e:
                raise HistoryError(f"{path}:{lineno}: not JSON: {e}") from None
            if not isinstance(obj, dict):
                raise HistoryError(f"{path}:{lineno}: a row must be a JSON object, "
                                   f"not {type(obj).__name__}")
            fmt = obj.get("format")
            if fmt is None:
                warn(f"{path}:{lineno}: warning: row has no format, read as format {FORMAT}")
            elif fmt != FORMAT or isinstance(fmt, bool):
                warn(f"{path}:{lineno}: warning: skipping a row of format {fmt!r} "
                     f"(this plot reads format {FORMAT})")
                continue
            rows.append(obj)
    return rows


def _num(v):
    """v if it is a finite number (not a bool), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if math.isfinite(v) else None


def _get(obj, *keys):
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def variant_rate(row, variant):
    """Trials per second of one variant of a row, or None."""
    v = _get(row, "variants", variant)
    if not isinstance(v, dict):
        return None
    rate = _num(v.get("trials_per_s"))
    if rate is None:
        trials, secs = _num(v.get("trials")), _num(v.get("seconds"))
        if trials is not None and secs:
            rate = trials / secs
    return rate


NOT_DETECTED = "none"


def detection(row, mutant):
    """Trials to first detection of a mutant in a row: a number, NOT_DETECTED, or None (no
    figure: the mutant was not run or its entry says nothing usable)."""
    m = _get(row, "mutants", mutant)
    if not isinstance(m, dict):
        return None
    t = _num(m.get("trials_to_first"))
    detected = _num(m.get("detected"))
    if detected is not None and detected <= 0:
        return NOT_DETECTED
    if t is not None:
        return t
    return None


def has_mutants(rows):
    return any(isinstance(r.get("mutants"), dict) and r["mutants"] for r in rows)


def _series_names(rows, key, preferred=()):
    seen = []
    for r in rows:
        d = r.get(key)
        if isinstance(d, dict):
            for name in d:
                if name not in seen:
                    seen.append(name)
    first = [p for p in preferred if p in seen]
    return first + [s for s in seen if s not in first]


def short_labels(rows):
    """Two lines per campaign: a short date (MM-DD, with the time when two campaigns share a
    day, with the year when the rows span years) and the commit."""
    dates = [r.get("date") if isinstance(r.get("date"), str) else "" for r in rows]
    days = [d[:10] for d in dates]
    years = {d[:4] for d in days if d}
    out = []
    for d, day, r in zip(dates, days, rows):
        if not day:
            top = "?"
        else:
            top = day if len(years) > 1 else day[5:]
            if days.count(day) > 1 and len(d) >= 16:
                top += " " + d[11:16]
        commit = r.get("commit")
        bottom = commit[:7] if isinstance(commit, str) else ""
        shard = r.get("shard")
        if isinstance(shard, int) and not isinstance(shard, bool):
            bottom += f" s{shard}"
        out.append((top, bottom))
    return out


def _date_span(rows):
    dates = [r["date"][:10] for r in rows if isinstance(r.get("date"), str) and r["date"]]
    if not dates:
        return ""
    return dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"


# ---------------------------------------------------------------------------------------------
# scales

def nice_ticks(hi, count=5, integer=False):
    """Ticks from 0 to at least hi, at a step of 1, 2, 2.5 or 5 times a power of ten (a whole
    number when integer)."""
    if not hi or hi <= 0:
        hi = 1
    raw = hi / count
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * mag
        if integer and step != int(step):
            continue
        if hi / step <= count:
            break
    if integer:
        step = max(1, int(step))
    n = math.ceil(hi / step - 1e-9)
    return [i * step for i in range(n + 1)], step


def _trim(s):
    return s.rstrip("0").rstrip(".") if "." in s else s


def fmt_num(v, step=1):
    """A tick label for value v on an axis of the given step: 12, 2.5, 0.25, 12k, 1.5M."""
    if abs(v) >= 1e6:
        return _trim(f"{v / 1e6:.2f}") + "M"
    if abs(v) >= 1e4:
        return _trim(f"{v / 1e3:.1f}") + "k"
    if step >= 1 and step == int(step):
        return f"{v:.0f}"
    decimals = max(1, -math.floor(math.log10(step) + 1e-9))
    scaled = step * 10 ** decimals
    if abs(scaled - round(scaled)) > 1e-9:
        decimals += 1
    return f"{v:.{decimals}f}"


def fmt_value(v):
    if v == int(v):
        return f"{int(v)}"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"


# ---------------------------------------------------------------------------------------------
# SVG

class Chart:
    """One chart: the frame, the axes and a legend; series are added with line() and bars()."""

    def __init__(self, title, ylabel, labels, legend, log=False, ymax=1.0, ymin_log=1.0,
                 none_band=False, xlabel="campaign (date, commit)", integer=False):
        self.n = len(labels)
        self.legend = legend            # [(name, colour, kind, shape)]
        self.legend_colw = max(90, 7 * max([len(e[0]) for e in legend] or [1]) + 40)
        ncols = max(1, min(len(legend), (WIDTH - LEFT - RIGHT) // self.legend_colw))
        self.legend_cols = ncols
        legend_rows = max(1, math.ceil(len(legend) / ncols)) if legend else 0
        self.height = HEIGHT + max(0, legend_rows - 1) * LEGEND_ROW
        self.bottom = self.height - (XLABELS + 18 + legend_rows * LEGEND_ROW + 8)
        self.top = TOP + (18 if none_band else 0)
        self.left, self.right = LEFT, WIDTH - RIGHT
        self.band = (self.right - self.left) / max(1, self.n)
        self.log = log
        self.none_band = none_band
        self.out = []
        o = self.out
        o.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
                 f'height="{self.height}" viewBox="0 0 {WIDTH} {self.height}" '
                 f'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">')
        o.append(f"<title>{escape(title)}</title>")
        o.append(f'<rect width="{WIDTH}" height="{self.height}" fill="#ffffff"/>')
        o.append(f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" '
                 f'font-weight="bold">{escape(title)}</text>')
        # y axis: grid, ticks, labels
        if log:
            lmin = math.log10(max(ymin_log, 1e-12))
            lmax = math.log10(max(ymax, ymin_log))
            lo, hi = math.floor(lmin), math.ceil(lmax)
            if hi <= lo:
                hi = lo + 1
            # a decade's tenth of room under the lowest and over the highest point
            self.ylo = min(lo, lmin - 0.12)
            self.yhi = max(hi, lmax + 0.12)
            ticks = [(10.0 ** e, fmt_num(10.0 ** e, 10.0 ** e)) for e in range(lo, hi + 1)]
            minor = [m * 10.0 ** e for e in range(lo - 1, hi + 1) for m in (2, 5)
                     if self.ylo <= math.log10(m) + e <= self.yhi]
        else:
            vals, step = nice_ticks(ymax, integer=integer)
            self.ylo, self.yhi = 0.0, vals[-1]
            ticks = [(v, fmt_num(v, step)) for v in vals]
            minor = []
        for v in minor:
            y = self.y(v)
            o.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#f0f0f0"/>')
        for v, text in ticks:
            y = self.y(v)
            o.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#dddddd"/>')
            o.append(f'<line x1="{self.left - 5}" x2="{self.left}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#333333"/>')
            o.append(f'<text x="{self.left - 8}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(text)}</text>')
        if none_band:
            y = self.none_y()
            o.append(f'<rect x="{self.left}" y="{y - 8}" width="{self.right - self.left}" '
                     f'height="16" fill="#fdecea"/>')
            o.append(f'<text x="{self.left - 8}" y="{y + 4}" text-anchor="end" '
                     f'fill="#b00020">none</text>')
        cy = (self.top + self.bottom) / 2
        o.append(f'<text x="16" y="{cy:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {cy:.1f})">{escape(ylabel)}</text>')
        # x axis: a tick per campaign, labels thinned to at most MAX_XLABELS
        step = max(1, math.ceil(self.n / MAX_XLABELS))
        shown = {self.n - 1} | {i for i in range(0, self.n, step)
                                if self.n - 1 - i >= 0.75 * step or i == self.n - 1}
        for i, (top, bottom) in enumerate(labels):
            x = self.x(i)
            o.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.bottom}" '
                     f'y2="{self.bottom + 4}" stroke="#333333"/>')
            if i in shown:
                o.append(f'<text x="{x:.1f}" y="{self.bottom + 16}" text-anchor="middle">'
                         f'{escape(top)}</text>')
                o.append(f'<text x="{x:.1f}" y="{self.bottom + 29}" text-anchor="middle" '
                         f'font-family="DejaVu Sans Mono, monospace" font-size="10" '
                         f'fill="#555555">{escape(bottom)}</text>')
        o.append(f'<text x="{(self.left + self.right) / 2:.1f}" y="{self.bottom + XLABELS + 8}" '
                 f'text-anchor="middle" fill="#333333">{escape(xlabel)}</text>')
        # the frame over the grid
        o.append(f'<rect x="{self.left}" y="{self.top}" width="{self.right - self.left}" '
                 f'height="{self.bottom - self.top}" fill="none" stroke="#333333"/>')
        if self.n == 0:
            o.append(f'<text x="{(self.left + self.right) / 2:.1f}" '
                     f'y="{(self.top + self.bottom) / 2:.1f}" text-anchor="middle" '
                     f'fill="#888888">no data</text>')

    def x(self, i):
        return self.left + (i + 0.5) * self.band

    def y(self, v):
        if self.log:
            v = math.log10(max(v, 10.0 ** self.ylo))
        frac = (v - self.ylo) / ((self.yhi - self.ylo) or 1)
        return self.bottom - frac * (self.bottom - self.top)

    def none_y(self):
        return TOP + 8

    def _marker(self, shape, x, y, colour, attrs, tip, hollow=False):
        fill = "#ffffff" if hollow else colour
        common = (f'class="marker" {attrs} fill="{fill}" stroke="{colour}" '
                  f'stroke-width="1.5"')
        tip = f"<title>{escape(tip)}</title>"
        r = 3.5
        if shape == "square":
            return (f'<rect {common} x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" '
                    f'height="{2 * r}">{tip}</rect>')
        if shape == "triangle":
            pts = f"{x:.1f},{y - r - 1:.1f} {x - r - 0.5:.1f},{y + r:.1f} {x + r + 0.5:.1f},{y + r:.1f}"
            return f'<polygon {common} points="{pts}">{tip}</polygon>'
        if shape == "diamond":
            pts = (f"{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} {x:.1f},{y + r + 1:.1f} "
                   f"{x - r - 1:.1f},{y:.1f}")
            return f'<polygon {common} points="{pts}">{tip}</polygon>'
        return f'<circle {common} cx="{x:.1f}" cy="{y:.1f}" r="{r}">{tip}</circle>'

    def line(self, name, colour, shape, points, tips, dashed=False, dx=0.0):
        """points: [(row index, value or NOT_DETECTED)]; consecutive rows are joined, a missing
        row breaks the line; NOT_DETECTED points sit on the none band, unjoined, hollow."""
        o = self.out
        attrs_series = f'data-series="{escape(name, {chr(34): "&quot;"})}"'
        o.append(f'<g {attrs_series}>')
        segment, last = [], None
        segs = []
        for i, v in points:
            if v is NOT_DETECTED or (last is not None and i != last + 1):
                if segment:
                    segs.append(segment)
                segment = []
            if v is not NOT_DETECTED:
                segment.append((self.x(i) + dx, self.y(v)))
            last = i if v is not NOT_DETECTED else None
        if segment:
            segs.append(segment)
        dash = ' stroke-dasharray="5,3"' if dashed else ""
        for seg in segs:
            if len(seg) > 1:
                pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)
                o.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"{dash}/>')
        for (i, v), tip in zip(points, tips):
            hollow = v is NOT_DETECTED
            y = self.none_y() if hollow else self.y(v)
            o.append(self._marker(shape, self.x(i) + dx, y, colour,
                                  f'{attrs_series} data-row="{i}"', tip, hollow))
        o.append("</g>")

    def bars(self, name, colour, slot, nslots, points, tips):
        """points: [(row index, value)]; slot-th of nslots bars side by side in each band.  A
        zero value is a 1.5 px sliver on the axis, so that it is seen as zero, not missing."""
        o = self.out
        attrs_series = f'data-series="{escape(name)}"'
        width = min(self.band * 0.7 / nslots, 16)
        o.append(f'<g {attrs_series}>')
        for (i, v), tip in zip(points, tips):
            x = self.x(i) - nslots * width / 2 + slot * width
            y = self.y(v)
            h = max(self.bottom - y, 1.5)
            o.append(f'<rect class="marker" {attrs_series} data-row="{i}" x="{x:.1f}" '
                     f'y="{self.bottom - h:.1f}" width="{max(width - 1, 1):.1f}" '
                     f'height="{h:.1f}" fill="{colour}" fill-opacity="0.75">'
                     f'<title>{escape(tip)}</title></rect>')
        o.append("</g>")

    def finish(self):
        o = self.out
        if self.legend:
            colw = self.legend_colw
            y0 = self.height - len(range(0, len(self.legend), self.legend_cols)) * LEGEND_ROW
            for k, (name, colour, kind, shape) in enumerate(self.legend):
                row, col = divmod(k, self.legend_cols)
                x = self.left + col * colw
                y = y0 + row * LEGEND_ROW
                if kind == "bar":
                    o.append(f'<rect x="{x:.1f}" y="{y - 9}" width="18" height="10" '
                             f'fill="{colour}" fill-opacity="0.75"/>')
                else:
                    dash = ' stroke-dasharray="5,3"' if kind == "dashed" else ""
                    o.append(f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y - 4}" '
                             f'y2="{y - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
                    o.append(self._marker(shape, x + 9, y - 4, colour, 'data-legend="1"',
                                          name).replace('class="marker" ', ""))
                o.append(f'<text x="{x + 24:.1f}" y="{y}">{escape(name)}</text>')
        o.append("</svg>")
        return "\n".join(o) + "\n"


def _campaigns(n):
    return f"{n} campaign" + ("" if n == 1 else "s")


def _tip(label, name, value, unit):
    when = " ".join(p for p in label if p)
    return f"{name}, {when}: {value} {unit}".strip()


def chart_trials_per_s(rows):
    labels = short_labels(rows)
    variants = _series_names(rows, "variants", ("asan", "tsan", "release"))
    series = []
    for k, v in enumerate(variants):
        pts = [(i, r) for i, r in ((i, variant_rate(row, v)) for i, row in enumerate(rows))
               if r is not None]
        colour = VARIANT_COLOURS.get(v, PALETTE[(k + 3) % len(PALETTE)])
        series.append((v, colour, SHAPES[k % len(SHAPES)], pts))
    ymax = max([p[1] for s in series for p in s[3]] or [1]) * 1.05
    title = f"Trials per second by variant ({_campaigns(len(rows))}"
    span = _date_span(rows)
    title += f", {span})" if span else ")"
    c = Chart(title, "trials / s", labels,
              [(name, colour, "line", shape) for name, colour, shape, _ in series], ymax=ymax)
    for name, colour, shape, pts in series:
        c.line(name, colour, shape, pts,
               [_tip(labels[i], name, fmt_value(v), "trials/s") for i, v in pts])
    return c.finish()


def chart_buckets(rows):
    labels = short_labels(rows)

    def pts(key):
        return [(i, v) for i, v in ((i, _num(_get(r, "buckets", key))) for i, r in
                                    enumerate(rows)) if v is not None]

    total, new, gone = pts("total"), pts("new"), pts("gone")
    ymax = max([v for _, v in total + new + gone] or [1]) * 1.05
    ymax = max(ymax, 1)
    c = Chart(f"Finding buckets per campaign ({_campaigns(len(rows))}"
              + (f", {_date_span(rows)})" if _date_span(rows) else ")"),
              "buckets", labels,
              [("total", "#1f77b4", "line", "circle"), ("new", "#d62728", "bar", None),
               ("gone", "#7f7f7f", "bar", None)], ymax=ymax, integer=True)
    c.bars("new", "#d62728", 0, 2, new,
           [_tip(labels[i], "new", fmt_value(v), "buckets") for i, v in new])
    c.bars("gone", "#7f7f7f", 1, 2, gone,
           [_tip(labels[i], "gone", fmt_value(v), "buckets") for i, v in gone])
    c.line("total", "#1f77b4", "circle", total,
           [_tip(labels[i], "total", fmt_value(v), "buckets") for i, v in total])
    return c.finish()


def chart_detection(rows):
    labels = short_labels(rows)
    mutants = _series_names(rows, "mutants")
    series = []
    for k, m in enumerate(mutants):
        pts = [(i, d) for i, d in ((i, detection(r, m)) for i, r in enumerate(rows))
               if d is not None]
        series.append((m, PALETTE[k % len(PALETTE)], SHAPES[(k // len(PALETTE)) % len(SHAPES)],
                       pts))
    values = [v for s in series for _, v in s[3] if v is not NOT_DETECTED]
    positive = [v for v in values if v > 0]
    none_band = any(v is NOT_DETECTED for s in series for _, v in s[3])
    c = Chart(f"Trials to first detection per mutant ({sum(1 for r in rows if _get(r, 'mutants'))}"
              f" of {len(rows)} campaigns scored)",
              "trials to first detection (log)", labels,
              [(name, colour, "line", shape) for name, colour, shape, _ in series], log=True,
              ymax=max(positive or [10]), ymin_log=min(positive or [1] + [1]),
              none_band=none_band)
    # mutants often share a value (1 trial): spread the series over part of each campaign's
    # band so that coinciding points stay visible
    spread = min(c.band * 0.5, 8.0 * len(series)) if len(series) > 1 else 0.0
    for k, (name, colour, shape, pts) in enumerate(series):
        dx = (k / (len(series) - 1) - 0.5) * spread if len(series) > 1 else 0.0
        c.line(name, colour, shape, pts,
               [_tip(labels[i], name, "not detected" if v is NOT_DETECTED else fmt_value(v),
                     "" if v is NOT_DETECTED else "trials") for i, v in pts], dx=dx)
    return c.finish()


# ---------------------------------------------------------------------------------------------
# writing

def write_atomic(path, data):
    """Bytes or text to path atomically (journal.atomic_write: temporary name, fsync, rename)."""
    journal.atomic_write(path, data)


def render(rows, out_dir):
    """Write trials-per-s.svg, buckets.svg and (when some row has mutants) detection.svg of
    the parsed rows into out_dir (created if missing); return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    charts = [("trials-per-s.svg", chart_trials_per_s), ("buckets.svg", chart_buckets)]
    if has_mutants(rows):
        charts.append(("detection.svg", chart_detection))
    written = []
    for name, fn in charts:
        path = os.path.join(out_dir, name)
        write_atomic(path, fn(rows))
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# gnuplot

def _gp_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _gp_xtics(labels):
    n = len(labels)
    step = max(1, math.ceil(n / MAX_XLABELS))
    shown = {n - 1} | {i for i in range(0, n, step) if n - 1 - i >= 0.75 * step}
    tics = []
    for i, (top, bottom) in enumerate(labels):
        text = f"{top}\\n{bottom}" if i in shown else ""
        tics.append(f'"{text}" {i}')
    return "set xtics (" + ", ".join(tics) + ") nomirror\n" if tics else ""


def _gp_common(title, ylabel, labels, height):
    n = len(labels)
    return (f"set output OUTFILE\n"
            f"set title {_gp_str(title)}\n"
            f"set ylabel {_gp_str(ylabel)}\n"
            f"set xlabel \"campaign (date, commit)\" offset 0,-0.6\nset bmargin 7\n"
            f"set grid ytics lc rgb '#dddddd'\nset key below horizontal\n"
            f"set offsets 0, 0, graph 0.06, 0\nset format y '%g'\n"
            f"set xrange [-0.5:{max(n, 1) - 0.5}]\n"
            + _gp_xtics(labels))


def _gp_data(path, rows_of_values):
    with open(path, "w", encoding="utf-8") as f:
        for i, vals in enumerate(rows_of_values):
            f.write(f"{i} " + " ".join("NaN" if v is None else repr(float(v)) for v in vals)
                    + "\n")


def render_png(rows, out_dir, gnuplot="gnuplot"):
    """PNG versions of the charts through gnuplot.  Returns (paths written, error or None)."""
    labels = short_labels(rows)
    jobs = []
    with tempfile.TemporaryDirectory(prefix="refstorm-plot-") as tmp:
        variants = _series_names(rows, "variants", ("asan", "tsan", "release"))
        dat = os.path.join(tmp, "trials.dat")
        _gp_data(dat, [[variant_rate(r, v) for v in variants] for r in rows])
        plots = [f"{_gp_str(dat)} using 1:{k + 2} with linespoints lw 2 pt {(5, 7, 9)[k % 3]} "
                 f"lc rgb '{VARIANT_COLOURS.get(v, PALETTE[(k + 3) % len(PALETTE)])}' "
                 f"title {_gp_str(v)}" for k, v in enumerate(variants)]
        script = _gp_common("Trials per second by variant", "trials / s", labels, HEIGHT)
        script += "set yrange [0:*]\n"
        script += ("plot " + ", ".join(plots) + "\n") if plots else \
            "set label 'no data' at graph 0.5,0.5 center\nplot NaN notitle\n"
        jobs.append(("trials-per-s.png", script))

        dat = os.path.join(tmp, "buckets.dat")
        _gp_data(dat, [[_num(_get(r, "buckets", k)) for k in ("total", "new", "gone")]
                       for r in rows])
        script = _gp_common("Finding buckets per campaign", "buckets", labels, HEIGHT)
        top = max([v for r in rows for k in ("total", "new", "gone")
                   for v in [_num(_get(r, "buckets", k))] if v is not None] or [1])
        script += f"set ytics {nice_ticks(top, integer=True)[1]}\n"
        script += ("set yrange [0:*]\nset style fill solid 0.75 noborder\nset boxwidth 0.3\n"
                   f"plot {_gp_str(dat)} using ($1-0.15):3 with boxes lc rgb '#d62728' "
                   "title 'new', "
                   f"{_gp_str(dat)} using ($1+0.15):4 with boxes lc rgb '#7f7f7f' "
                   "title 'gone', "
                   f"{_gp_str(dat)} using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' "
                   "title 'total'\n")
        jobs.append(("buckets.png", script))

        if has_mutants(rows):
            mutants = _series_names(rows, "mutants")
            dat = os.path.join(tmp, "detection.dat")
            _gp_data(dat, [[d if isinstance(d, (int, float)) and d > 0 else None
                            for d in (detection(r, m) for m in mutants)] for r in rows])
            plots = [f"{_gp_str(dat)} using 1:{k + 2} with linespoints lw 2 pt {7 + k % 6} "
                     f"lc rgb '{PALETTE[k % len(PALETTE)]}' "
                     f"title {_gp_str(m)}" for k, m in enumerate(mutants)]
            script = _gp_common("Trials to first detection per mutant (undetected: left out)",
                                "trials to first detection", labels, HEIGHT)
            script += "set logscale y\nset key font ',8'\n"
            script += "plot " + ", ".join(plots) + "\n"
            jobs.append(("detection.png", script))

        written = []
        for name, script in jobs:
            legend_rows = 1 if name != "detection.png" else \
                math.ceil(len(_series_names(rows, "mutants")) / 4)
            height = HEIGHT + max(0, legend_rows - 1) * 12
            png = os.path.join(tmp, name)
            full = (f"set terminal pngcairo size {WIDTH},{height} font 'DejaVu Sans,10'\n"
                    f"OUTFILE = {_gp_str(png)}\n" + script)
            gp = os.path.join(tmp, name[:-4] + ".gp")
            with open(gp, "w", encoding="utf-8") as f:
                f.write(full)
            try:
                p = subprocess.run([gnuplot, gp], capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as e:
                return written, f"gnuplot could not run: {e}"
            if p.returncode != 0 or not os.path.exists(png):
                last = (p.stderr.strip().splitlines() or [""])[-1]
                return written, (f"gnuplot failed on {name} (status {p.returncode})"
                                 + (f": {last}" if last else ""))
            with open(png, "rb") as f:
                data = f.read()
            dest = os.path.join(out_dir, name)
            write_atomic(dest, data)
            written.append(dest)
    return written, None


# ---------------------------------------------------------------------------------------------
# command line

def main(argv):
    parser = argparse.ArgumentParser(
        prog="plot", description="Charts (SVG, and PNG through gnuplot) of a campaign "
        "history file: trials-per-s.svg, buckets.svg, detection.svg.",
        epilog="Exit status: 0 ok, 2 usage or input error.")
    parser.add_argument("history", metavar="HISTORY", help="history file (JSON Lines)")
    parser.add_argument("--out", metavar="DIR",
                        help="output folder (default: the history file's folder)")
    parser.add_argument("--png", action="store_true",
                        help="also write PNGs through gnuplot (done anyway when gnuplot is on "
                        "PATH; without gnuplot, say so and write only the SVGs)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    try:
        rows = load_history(args.history)
    except HistoryError as e:
        print(e, file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as e:
        print(f"plot: cannot read {args.history}: {e}", file=sys.stderr)
        return 2
    out = args.out if args.out is not None else (os.path.dirname(args.history) or ".")
    if not rows:
        warn(f"{args.history} has no format-{FORMAT} row: nothing to plot")
        return 0
    try:
        written = render(rows, out)
    except OSError as e:
        print(f"plot: cannot write into {out}: {e}", file=sys.stderr)
        return 2
    if not has_mutants(rows):
        warn("no row has mutants (the scoreboard did not run): detection.svg not written")
    gnuplot = shutil.which("gnuplot")
    if gnuplot:
        try:
            pngs, err = render_png(rows, out, gnuplot)
        except OSError as e:
            pngs, err = [], f"cannot write the PNGs: {e}"
        written += pngs
        if err:
            warn(f"warning: {err}; the SVGs are written")
    elif args.png:
        warn("gnuplot is not on PATH: no PNG written, only the SVGs")
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
