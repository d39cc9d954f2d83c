"""summary.md (for a person), summary.json (for a machine) and junit.xml (for CI)."""
import json
import os
import xml.etree.ElementTree as ET

from . import matrix as matrixmod


def minutes(seconds):
    seconds = int(seconds)
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


def clean_items(m, buckets):
    found = {s for b in buckets for s in b["scenarios"]}
    return [matrixmod.item_name(i) for i in m["items"] if matrixmod.item_name(i) not in found]


def summary_json(meta, m, stats, buckets, gone, interrupted):
    return {"format": 1, "meta": meta, "matrix": m, "interrupted": interrupted,
            "trials": stats["trials"], "errors": stats["errors"], "cells": stats["cells"],
            "elapsed": round(stats["elapsed"], 1), "variants": stats["variants"],
            "buckets": buckets, "gone": [{"hash": h, "title": t} for h, t in gone],
            "clean": clean_items(m, buckets), "charts": meta.get("charts", [])}


def summary_md(meta, m, stats, buckets, gone, interrupted, out):
    w = []
    status = "INTERRUPTED" if interrupted else ("FINDINGS" if buckets else "CLEAN")
    w.append("# refstorm campaign: %s" % status)
    w.append("")
    w.append("%d trials in %d cells, %s elapsed (%s budget), %d bucket%s (%d new, %d gone); "
             "commit %s, started %s, finished %s%s." % (
                 stats["trials"], stats["cells"], minutes(stats["elapsed"]), meta["budget"],
                 len(buckets), "" if len(buckets) == 1 else "s",
                 sum(1 for b in buckets if b.get("new")), len(gone), meta["commit"],
                 meta["started"], meta["finished"],
                 ", shard %d/%d" % tuple(m["shard"]) if m.get("shard") else ""))
    w.append("")
    if interrupted:
        w.append("The campaign was interrupted (%s): what it had found so far is below, without "
                 "reproducers; `scripts/campaign campaign --resume %s` goes on from here." % (
                     interrupted, out))
        w.append("")
    w.append("| variant | trials | worker seconds | trials/s per worker |")
    w.append("|---|---:|---:|---:|")
    for v, s in sorted(stats["variants"].items()):
        w.append("| %s | %d | %.0f | %.1f |" % (v, s["trials"], s["seconds"],
                                               s["trials"] / s["seconds"] if s["seconds"] else 0))
    w.append("")
    w.append("Matrix: %d items (%s), modes %s, variants %s, %d trials per cell from seed %d%s." % (
        len(m["items"]), ", ".join(matrixmod.item_name(i) for i in m["items"][:8]) +
        (", ..." if len(m["items"]) > 8 else ""), ",".join(m["modes"]), ",".join(m["variants"]),
        m["cell_trials"], m["seed"], "; mutants forced on: " + ", ".join(m["bugs"])
        if m.get("bugs") else ""))
    w.append("")
    for chart in meta.get("charts", []):
        w.append("![%s](%s)" % (os.path.basename(chart), os.path.relpath(chart, out)))
    if meta.get("charts"):
        w.append("")
    new = [b for b in buckets if b.get("new")]
    if new:
        w.append("## New since the previous campaign")
        w.append("")
        for b in new:
            w.append("- `%s` %s" % (b["hash"], b["title"]))
        w.append("")
    if gone:
        w.append("## Gone since the previous campaign")
        w.append("")
        for h, t in gone:
            w.append("- `%s` %s" % (h, t))
        w.append("")
    w.append("## Buckets")
    w.append("")
    if not buckets:
        w.append("None: every trial passed.")
        w.append("")
    for n, b in enumerate(buckets, 1):
        rep = b.get("reproducer") or {}
        w.append("### %d. %s%s" % (n, b["title"], " (new)" if b.get("new") else ""))
        w.append("")
        w.append("- signature `%s` (hash `%s`)" % (b["signature"], b["hash"]))
        w.append("- %d finding%s; first seen %s (cell %d), last seen %s" % (
            b["count"], "" if b["count"] == 1 else "s", b["first_seen"], b["first_cell"],
            b["last_seen"]))
        w.append("- in %s; modes %s; variants %s" % (", ".join(b["scenarios"]) or "-",
                                                    ", ".join(b["modes"]),
                                                    ", ".join(b["variants"])))
        w.append("- message: %s" % (b["message"] or "-"))
        if b.get("frame"):
            w.append("- top runtime frame: `%s` at %s:%s" % (b["frame"]["function"],
                                                           b["frame"]["file"], b["frame"]["line"]))
        if rep:
            w.append("- reproduced %d of %d replays; replay: `%s`" % (
                rep.get("reproduced", 0), rep.get("replays", 0), rep.get("replay")))
        else:
            w.append("- no reproducer yet")
        w.append("- raw findings kept: %d (%s)" % (len(b["findings"]), ", ".join(
            f["folder"] for f in b["findings"][:3]) + (", ..." if len(b["findings"]) > 3 else "")))
        if rep.get("shrunk"):
            try:
                text = open(os.path.join(out, rep["shrunk"]), encoding="utf-8").read()
            except OSError:
                text = ""
            w.append("")
            w.append("Shrunk reproducer (`%s`):" % rep["shrunk"])
            w.append("")
            w.append("```")
            w.extend(text.rstrip("\n").split("\n")[:60])
            w.append("```")
        w.append("")
    clean = clean_items(m, buckets)
    w.append("## Clean items (%d)" % len(clean))
    w.append("")
    w.append(", ".join(clean) if clean else "none")
    w.append("")
    return "\n".join(w)


def junit(meta, m, buckets, stats):
    suite = ET.Element("testsuite", name="refstorm-campaign", tests="0", failures="0",
                       errors="0", time="%.1f" % stats["elapsed"], timestamp=meta["started"])
    failures = 0
    for b in buckets:
        case = ET.SubElement(suite, "testcase", classname="refstorm.campaign.bucket",
                             name="%s %s" % (b["hash"], b["title"]))
        rep = b.get("reproducer") or {}
        fail = ET.SubElement(case, "failure", message=b["title"], type=b["verdict"])
        fail.text = "%s\n%d findings in %s\nreplay: %s\n" % (
            b["message"], b["count"], ", ".join(b["scenarios"]), rep.get("replay") or "-")
        failures += 1
    clean = clean_items(m, buckets)
    for name in clean:
        ET.SubElement(suite, "testcase", classname="refstorm.campaign.clean", name=name)
    suite.set("tests", str(len(buckets) + len(clean)))
    suite.set("failures", str(failures))
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") \
        + "\n"


def write_all(out, root, meta, m, stats, buckets, gone, interrupted, writer):
    from . import sarif
    writer(os.path.join(out, "summary.json"),
           json.dumps(summary_json(meta, m, stats, buckets, gone, interrupted), indent=2) + "\n")
    writer(os.path.join(out, "summary.md"),
           summary_md(meta, m, stats, buckets, gone, interrupted, out))
    writer(os.path.join(out, "junit.xml"), junit(meta, m, buckets, stats))
    sarif.write(os.path.join(out, "results.sarif"), root, meta, buckets, writer)
