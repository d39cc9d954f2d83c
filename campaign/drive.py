"""The campaign's main loop: start cells, journal them, bucket, reproduce, write the outputs."""
import datetime
import hashlib
import os
import shutil
import signal
import subprocess
import time

from . import buckets as bucketsmod
from . import history, journal, matrix as matrixmod, outputs, runner


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def commit(root):
    def git(*a):
        p = subprocess.run(["git", "-C", root] + list(a), capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else ""
    full = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return (full[:7] + ("-dirty" if dirty else "")) if full else "unknown", full


class Stats:
    def __init__(self):
        self.trials = self.errors = self.cells = 0
        self.variants = {}
        self.elapsed = 0.0

    def add(self, rec):
        self.trials += rec["trials"]
        self.errors += rec["errors"]
        self.cells += 1
        v = self.variants.setdefault(rec["variant"], {"trials": 0, "seconds": 0.0})
        v["trials"] += rec["trials"]
        v["seconds"] += rec["seconds"]
        self.elapsed = max(self.elapsed, rec.get("elapsed", 0.0))

    def as_dict(self):
        return {"trials": self.trials, "errors": self.errors, "cells": self.cells,
                "variants": self.variants, "elapsed": self.elapsed}


def internal_findings(rec):
    """A cell whose refstorm exited 3 (or 2 with no trial it could not run) is a finding of its
    own: the campaign goes on, the summary shows it."""
    if "internal_error" not in rec:
        return
    sig = "error|refstorm-exit-%d" % rec["exit_status"]
    rec["findings"].append({
        "signature": sig, "hash": hashlib.sha1(sig.encode()).hexdigest()[:16],
        "verdict": "error", "check": "refstorm-exit-%d" % rec["exit_status"],
        "title": "refstorm exited %d in cell %s" % (rec["exit_status"], rec["id"]),
        "frame": None, "message": rec["internal_error"][-300:], "headline": None,
        "folder": os.path.join("cells", rec["id"]), "scenario": matrixmod.item_name(rec["item"]),
        "mode": rec["mode"], "variant": rec["variant"], "cell": rec["index"]})


_stop = []  # the signal that asked the campaign to stop (set by the handler, read by the loop)


def catch_signals():
    """SIGINT and SIGTERM end the campaign gracefully; installed first thing, so a signal during
    start-up is a graceful stop too."""
    def handler(signum, _frame):
        _stop.append(signum)
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, handler)


class Campaign:
    def __init__(self, root, out, m, opts, say):
        self.root, self.out, self.m, self.opts, self.say = root, out, m, opts, say
        self.journal = journal.Journal(out)

    @property
    def stop_signal(self):
        return _stop[0] if _stop else None

    def run(self, records):
        """records: the journal so far (resume) or None.  Returns the exit status."""
        opts, out, m = self.opts, self.out, self.m
        swept = journal.sweep(out)
        if swept:
            self.say("swept %d temporary file(s) of interrupted writes" % swept)
        lock = runner.Lock(out)
        lock.take(self.say)
        if records is not None:  # read again under the lock: the journal is complete now
            records = self.journal.read()
        self.journal.open()
        if records is None:
            c, full = commit(self.root)
            records = [{"type": "campaign", "matrix": m, "commit": c, "commit_full": full,
                        "started": now_iso(), "argv": opts.argv, "settings": opts.settings}]
            self.journal.append(records[0])
        head = records[0]
        cells = [r for r in records if r["type"] == "cell"]
        done = {r["index"] for r in cells}
        # folders of cells that never finished (the campaign died while they ran)
        cells_dir = os.path.join(out, "cells")
        if os.path.isdir(cells_dir):
            journaled = {r["id"] for r in cells}
            for name in os.listdir(cells_dir):
                if name not in journaled:
                    shutil.rmtree(os.path.join(cells_dir, name), ignore_errors=True)
        stats = Stats()
        counts = {}
        for r in cells:
            stats.add(r)
            for f in r["findings"]:
                counts[f["signature"]] = counts.get(f["signature"], 0) + 1
        base_elapsed = stats.elapsed
        started = time.monotonic()
        budget = m["budget"]
        progress = runner.Progress(opts.quiet)
        pending = (c for c in matrixmod.cells(m) if c["index"] not in done)
        running = []
        exhausted = False
        prev_row = (history.read(opts.history) or [None])[-1]
        prev_sigs = set(prev_row.get("signatures", [])) if prev_row else set()  # as compare()
        while True:
            elapsed = base_elapsed + time.monotonic() - started
            out_of_time = "seconds" in budget and elapsed >= budget["seconds"]
            while (not self.stop_signal and not exhausted and not out_of_time
                   and len(running) < opts.jobs):
                spec = next(pending, None)
                if spec is None:
                    exhausted = True
                    break
                left = budget["seconds"] - elapsed if "seconds" in budget else None
                running.append(runner.Cell(spec, self.root, out, m["bugs"], lock.fd, left))
            if self.stop_signal:
                for cell in running:
                    cell.stop()
                for cell in running:
                    cell.proc.wait()
                    cell.stdout.close()
                    cell.stderr.close()
                    shutil.rmtree(cell.dir, ignore_errors=True)
                running = []
                break
            if not running:
                break
            for cell in [c for c in running if c.poll() is not None]:
                running.remove(cell)
                rec = cell.finish()
                internal_findings(rec)
                bucketsmod.decide_kept(rec["findings"], counts)
                rec["at"] = now_iso()
                rec["elapsed"] = round(base_elapsed + time.monotonic() - started, 3)
                self.journal.append(rec)
                for f in rec["findings"]:
                    if not f["kept"] and f["folder"].startswith("cells/") and \
                            f["verdict"] != "error":
                        shutil.rmtree(os.path.join(out, f["folder"]), ignore_errors=True)
                cells.append(rec)
                stats.add(rec)
            progress.show(self._progress_line(stats, counts, prev_sigs, running, elapsed))
            time.sleep(0.05)
        stats.elapsed = max(stats.elapsed, base_elapsed + time.monotonic() - started) \
            if not self.stop_signal else stats.elapsed
        progress.show(self._progress_line(stats, counts, prev_sigs, [], stats.elapsed), True)
        progress.done()
        bks = bucketsmod.aggregate(sorted(cells, key=lambda r: r["index"]))
        reproducers = {r["signature"]: r for r in records if r["type"] == "bucket"}
        if not self.stop_signal:
            for b in bks:
                if b["signature"] in reproducers or b["verdict"] == "error":
                    continue
                if self.stop_signal:  # a signal while shrinking: the rest wait for a resume
                    break
                self.say("bucket %s: shrinking and replaying %s" % (b["hash"], b["title"]))
                rec = bucketsmod.reproduce(self.root, out, b, m["bugs"], opts.shrink_time,
                                           opts.replays)
                self.journal.append(rec)
                reproducers[b["signature"]] = rec
        interrupted = signal.Signals(self.stop_signal).name if self.stop_signal else None
        for b in bks:
            b["reproducer"] = reproducers.get(b["signature"])
        code = self.finish(head, records, stats, bks, interrupted)
        self.journal.close()
        if interrupted:
            return 130 if self.stop_signal == signal.SIGINT else 143
        return code

    def _progress_line(self, stats, counts, prev_sigs, running, elapsed):
        budget = self.m["budget"]
        if "seconds" in budget:
            left = "%s left" % outputs.minutes(max(0, budget["seconds"] - elapsed))
        else:
            left = "%d of %d trials" % (stats.trials, budget["trials"])
        sigs = {s for s in counts}
        share = " ".join("%s %d%%" % (v, 100 * s["trials"] // max(1, stats.trials))
                         for v, s in sorted(stats.variants.items()))
        new = sum(1 for s in sigs if hashlib.sha1(s.encode()).hexdigest()[:16] not in prev_sigs)
        return ("campaign: %s elapsed, %s; %d trials (%.1f/s); %d cells done, %d running; "
                "%d bucket%s (%d new); %s" % (
                    outputs.minutes(elapsed), left, stats.trials,
                    stats.trials / elapsed if elapsed > 0 else 0, stats.cells, len(running),
                    len(sigs), "" if len(sigs) == 1 else "s", new, share or "-"))

    def finish(self, head, records, stats, bks, interrupted):
        """Outputs, charts and the history row; the exit status (0 clean, 1 buckets)."""
        opts, out, m = self.opts, self.out, self.m
        meta = {"commit": head["commit"], "commit_full": head.get("commit_full"),
                "started": head["started"], "finished": now_iso(),
                "budget": matrixmod.budget_text(m["budget"]), "out": out,
                "shard": "%d/%d" % tuple(m["shard"]) if m.get("shard") else None}
        rows = history.read(opts.history)
        gone = history.compare(bks, rows[-1] if rows else None)
        appended = any(r["type"] == "history" for r in records)
        if not interrupted and opts.history and not appended:
            mutants = None
            if opts.mutants_from:
                from . import gatefig
                mutants = gatefig.mutants_from_gate(opts.mutants_from)
            history.append(opts.history, history.row(meta, stats.as_dict(), bks, gone, mutants))
            self.journal.append({"type": "history", "path": opts.history})
            rows = history.read(opts.history)
        meta["charts"] = charts(rows, out, self.say)
        outputs.write_all(out, self.root, meta, m, stats.as_dict(), bks, gone, interrupted,
                          journal.atomic_write)
        self.say("%s: %d trials, %d bucket%s (%d new, %d gone); summary in %s" % (
            "INTERRUPTED" if interrupted else ("FINDINGS" if bks else "CLEAN"), stats.trials,
            len(bks), "" if len(bks) == 1 else "s", sum(1 for b in bks if b.get("new")),
            len(gone), os.path.join(out, "summary.md")))
        return 1 if bks else 0


def charts(rows, out, say):
    if not rows:
        return []
    try:
        from . import plot
    except ImportError:
        return []
    try:
        return plot.render(rows, out)
    except Exception as e:  # a chart is never worth a campaign's results
        say("charts not drawn: %s" % e)
        return []
