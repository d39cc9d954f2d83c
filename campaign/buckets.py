"""Findings grouped into buckets by signature, and each bucket's reproducer.

A bucket keeps its count, first and last seen (campaign time and date), where it was found
(scenarios, modes, variants), up to KEEP raw finding folders (the others are deleted once
journaled, their count kept) and one reproducer: the first pct finding if there is one (pct
replays exactly), else the first finding, shrunk with `refstorm shrink --time T` and replayed
R times; its reproduction rate is how many of those replays failed with the same verdict and
check (a pct reproducer should be R/R; free and chaos ones are whatever the machine gives).
"""
import json
import os
import shlex
import subprocess

from . import runner

KEEP = 20


def aggregate(cell_records):
    """Buckets from the cells' records, in order of first appearance."""
    buckets = {}
    for rec in cell_records:
        for f in rec["findings"]:
            b = buckets.get(f["signature"])
            if b is None:
                b = buckets[f["signature"]] = {
                    "signature": f["signature"], "hash": f["hash"], "verdict": f["verdict"],
                    "check": f["check"], "title": f["title"], "frame": f["frame"],
                    "message": f["message"], "headline": f.get("headline"), "count": 0,
                    "first_seen": rec.get("at"), "last_seen": rec.get("at"),
                    "first_cell": rec["index"], "scenarios": [], "modes": [], "variants": [],
                    "findings": [], "representative": None, "reproducer": None}
            b["count"] += 1
            b["last_seen"] = rec.get("at")
            for key, value in (("scenarios", f.get("scenario")), ("modes", f["mode"]),
                               ("variants", f["variant"])):
                if value and value not in b[key]:
                    b[key].append(value)
            if f.get("kept", True) and len(b["findings"]) < KEEP:
                b["findings"].append(f)
    for b in buckets.values():
        pct = [f for f in b["findings"] if f["mode"] == "pct"]
        b["representative"] = (pct or b["findings"] or [None])[0]
    return list(buckets.values())


def decide_kept(findings, counts):
    """Mark each new finding kept or not (the first KEEP of its signature are kept)."""
    for f in findings:
        n = counts.get(f["signature"], 0)
        f["kept"] = n < KEEP
        counts[f["signature"]] = n + 1


def reproduce(root, out, bucket, bugs, shrink_time, replays):
    """Shrink the bucket's representative and replay the result: the bucket record."""
    rep = bucket["representative"]
    rec = {"type": "bucket", "signature": bucket["signature"], "shrunk": None,
           "replay": None, "replays": replays, "reproduced": 0, "shrink": None}
    if rep is None:
        return rec
    folder = os.path.join(out, rep["folder"])
    rs = runner.binary(root, rep["variant"])
    rec["replay"] = "%s repro %s" % (shlex.quote(os.path.relpath(rs, root)),
                                     shlex.quote(folder))
    replay_argv = [rs, "repro", folder]
    if shrink_time > 0 and rep["verdict"] != "error":
        p = subprocess.run([rs, "shrink", folder, "--time", str(shrink_time), "--json",
                            "--quiet"], capture_output=True, text=True, cwd=out,
                           preexec_fn=runner.die_with_parent)
        result = last_json(p.stdout)
        rec["shrink"] = {"exit_status": p.returncode,
                         "ops": [result.get("original_ops"), result.get("final_ops")]
                         if result else None}
        minscn = result.get("out") if result else None
        if p.returncode == 0 and minscn and os.path.exists(minscn):
            argv = replay_of_min(minscn)
            if argv:
                rec["shrunk"] = os.path.relpath(minscn, out)
                replay_argv = [rs] + argv
                rec["replay"] = " ".join(shlex.quote(a) for a in
                                         [os.path.relpath(rs, root)] + argv)
    for _ in range(replays):
        p = subprocess.run(replay_argv + ["--json", "--quiet"], capture_output=True, text=True,
                           cwd=out, preexec_fn=runner.die_with_parent)
        got = last_json(p.stdout) or {}
        if p.returncode == 1 and (got.get("verdict"), got.get("check")) == (rep["verdict"],
                                                                            rep["check"]):
            rec["reproduced"] += 1
    return rec


def replay_of_min(path):
    """The argv (after the binary) of min.scn's own '# replay:' line, FILE replaced."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# replay: refstorm repro FILE"):
                return ["repro", path] + shlex.split(line.split("FILE", 1)[1])
            if not line.startswith("#"):
                break
    return None


def last_json(text):
    for line in reversed(text.strip().split("\n")):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None
