"""`merge DIR... --out DIR`: the shards of one campaign made one.

Every shard must hold the same matrix (shard aside) and the shards must be distinct; the cells'
records are combined in cell order (so the buckets, their counts and their representatives are
those of one unsharded run of the matrix), finding folders stay where they are (the merged
records point at them), each bucket keeps the reproducer of the shard that shrank it, and the
merged folder gets its own journal.jsonl, outputs and one history row.
"""
import os

from . import buckets as bucketsmod, drive, history, journal


def merge(root, dirs, out, history_path, say, Usage):
    heads, cells, reproducers = [], [], {}
    for d in dirs:
        j = journal.Journal(d)
        if not j.exists():
            raise Usage("%s: no journal.jsonl: not a campaign folder" % d)
        try:
            records = j.read()
        except journal.JournalError as e:
            raise Usage(str(e))
        heads.append(records[0])
        for r in records:
            if r["type"] == "cell":
                for f in r["findings"]:
                    f["folder"] = os.path.relpath(os.path.join(d, f["folder"]), out)
                cells.append(r)
            elif r["type"] == "bucket":
                if r.get("shrunk"):
                    r["shrunk"] = os.path.relpath(os.path.join(d, r["shrunk"]), out)
                reproducers.setdefault(r["signature"], r)
    base = dict(heads[0]["matrix"], shard=None)
    shards = set()
    for d, h in zip(dirs, heads):
        if dict(h["matrix"], shard=None) != base:
            raise Usage("%s: another matrix than %s's (only the shard may differ)" % (d, dirs[0]))
        s = tuple(h["matrix"]["shard"] or (0, 1))
        if s in shards:
            raise Usage("%s: shard %d/%d given twice" % ((d,) + s))
        shards.add(s)
    seen = set()
    for r in cells:
        if r["index"] in seen:
            raise Usage("cell %d is in two of the folders" % r["index"])
        seen.add(r["index"])
    cells.sort(key=lambda r: r["index"])
    os.makedirs(out, exist_ok=True)
    if journal.Journal(out).exists():
        raise Usage("%s already holds a campaign" % out)
    stats = drive.Stats()
    for r in cells:  # Stats keeps the largest `elapsed`: the longest shard's, as they ran side by side
        stats.add(r)
    j = journal.Journal(out)
    j.open()
    head = dict(heads[0], matrix=base, merged_from=dirs)
    j.append(head)
    for r in cells:
        j.append(r)
    bks = bucketsmod.aggregate(cells)
    for b in bks:
        b["reproducer"] = reproducers.get(b["signature"])
        if b["reproducer"]:
            j.append(b["reproducer"])
    opts = type("Opts", (), {"history": history_path, "mutants_from": None})()
    camp = drive.Campaign(root, out, base, opts, say)
    camp.journal = j
    code = camp.finish(head, [head], stats, bks, None)
    j.close()
    return code
