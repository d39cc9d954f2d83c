"""The history: one JSON line per finished campaign (docs/campaign.md lists the fields).

What is new and what is gone is read against the last row of the same history file, by
signature hash; rows keep each bucket's title so a gone bucket can still be named.
"""
import json
import os


def read(path):
    rows = []
    if not path or not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a torn last line of a killed writer
            if isinstance(row, dict) and row.get("format") == 1:
                rows.append(row)
    return rows


def append(path, row):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def compare(buckets, previous):
    """Mark each bucket new or not; the previous row's buckets that are gone: [(hash, title)]."""
    before = set(previous.get("signatures", [])) if previous else None
    now = {b["hash"] for b in buckets}
    for b in buckets:
        b["new"] = before is None or b["hash"] not in before  # no previous row: all new
    if before is None:
        return []
    titles = previous.get("titles", {})
    return [(h, titles.get(h, h)) for h in sorted(before - now)]


def row(meta, stats, buckets, gone, mutants):
    per = {}
    for v, s in sorted(stats["variants"].items()):
        per[v] = {"trials": s["trials"], "seconds": round(s["seconds"], 1),
                  "trials_per_s": round(s["trials"] / s["seconds"], 2) if s["seconds"] else 0}
    return {"format": 1, "commit": meta["commit"], "date": meta["finished"],
            "budget": meta["budget"], "seconds": round(stats["elapsed"], 1),
            "trials": stats["trials"],
            "trials_per_s": round(stats["trials"] / stats["elapsed"], 2) if stats["elapsed"] else 0,
            "variants": per,
            "buckets": {"total": len(buckets), "new": sum(1 for b in buckets if b.get("new")),
                        "gone": len(gone)},
            "signatures": sorted(b["hash"] for b in buckets),
            "titles": {b["hash"]: b["title"] for b in buckets},
            "mutants": mutants, "shard": meta.get("shard"), "out": meta["out"]}
