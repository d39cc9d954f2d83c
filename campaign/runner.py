"""Runs a campaign's cells as child processes, N at a time, and journals each finished cell.

A scenario or .scn cell is one `build/<variant>/refstorm run ITEM --mode M --seed S --trials K
--json --quiet --report-dir CELL`: refstorm's own supervisor turns a crash, hang or sanitizer
exit of its worker into a finding and goes on, so a cell always ends with a count of trials and
a list of finding folders.  A fuzz cell is `build/fuzz/<target> -runs=K -seed=S` over a corpus
that grows under OUT/fuzz-corpus; each crash file it leaves becomes a finding folder through
`refstorm import`.  Children die with the campaign (PR_SET_PDEATHSIG) and hold the campaign's
lock file open, so a resume waits until every process of an interrupted campaign has ended.
"""
import ctypes
import errno
import fcntl
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from . import matrix, signature

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    os.setpgrp()  # our own group: a ^C at the terminal reaches the campaign, which ends us


class Lock:
    """OUT/lock, held with flock by the campaign and inherited by its children."""

    def __init__(self, out):
        self.path = os.path.join(out, "lock")
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def take(self, say):
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            say("another campaign, or processes of an interrupted one, hold %s: waiting"
                % self.path)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        os.set_inheritable(self.fd, True)


class Cell:
    def __init__(self, spec, root, out, bugs, lock_fd, seconds_left=None):
        self.spec = spec
        self.dir = os.path.join(out, "cells", spec["id"])
        self.root = root
        self.out = out
        self.bugs = bugs
        shutil.rmtree(self.dir, ignore_errors=True)  # a cell that died unjournaled: from nothing
        os.makedirs(self.dir)
        self.started = time.monotonic()
        item = spec["item"]
        env = dict(os.environ)
        if item["kind"] == "fuzz":
            corpus = os.path.join(out, "fuzz-corpus", item["target"])
            os.makedirs(corpus, exist_ok=True)
            argv = [os.path.join(root, "build/fuzz", item["target"]), "-runs=%d" % spec["trials"],
                    "-seed=%d" % spec["seed"], "-artifact_prefix=" + self.dir + "/",
                    "-print_final_stats=1", corpus, os.path.join(root, "corpus", item["target"])]
            if bugs:
                env["RS_FUZZ_BUGS"] = ",".join(bugs)
        else:
            target = item["name"] if item["kind"] == "scenario" else os.path.join(root, item["path"])
            argv = [binary(root, spec["variant"]), "run", target, "--mode", spec["mode"],
                    "--seed", str(spec["seed"]), "--trials", str(spec["trials"]), "--json",
                    "--quiet", "--report-dir", self.dir]
            for b in bugs:
                argv += ["--bug", b]
            if seconds_left is not None:  # a time budget: start no trial after it runs out
                argv += ["--time", str(max(1, int(seconds_left + 0.999)))]
        self.argv = argv
        self.stdout = open(os.path.join(self.dir, "run.jsonl"), "w")
        self.stderr = open(os.path.join(self.dir, "run.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.stdout, stderr=self.stderr,
                                     stdin=subprocess.DEVNULL, cwd=self.dir, env=env,
                                     pass_fds=(lock_fd,), preexec_fn=die_with_parent)

    def poll(self):
        return self.proc.poll()

    def stop(self):
        """End the cell's process group (refstorm ends its workers on SIGTERM)."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def finish(self):
        """The cell's record: trials, errors and findings (with their signatures)."""
        rc = self.proc.wait()
        self.stdout.close()
        self.stderr.close()
        seconds = time.monotonic() - self.started
        if self.spec["item"]["kind"] == "fuzz":
            trials, errors, folders = self._fuzz_results(rc)
        else:
            trials, errors, folders = self._run_results()
        findings = []
        for folder in folders:
            try:
                sig = signature.of_folder(folder)
            except (OSError, ValueError) as e:
                sig = unreadable(folder, e)
            sig.update(folder=os.path.relpath(folder, self.out), scenario=self.scenario_of(folder),
                       mode=self.spec["mode"], variant=self.spec["variant"], cell=self.spec["index"])
            findings.append(sig)
        if self.spec["item"]["kind"] == "fuzz":  # libFuzzer exits non-zero on every crash
            internal = rc != 0 and not folders
        else:
            internal = rc not in (0, 1) and not (rc == 2 and errors)
        record = {"type": "cell", "index": self.spec["index"], "id": self.spec["id"],
                  "variant": self.spec["variant"], "mode": self.spec["mode"],
                  "item": self.spec["item"], "seed": self.spec["seed"], "trials": trials,
                  "errors": errors, "exit_status": rc, "seconds": round(seconds, 3),
                  "findings": findings}
        if internal:
            record["internal_error"] = tail(os.path.join(self.dir, "run.log"))
        return record

    def scenario_of(self, folder):
        try:
            with open(os.path.join(folder, "report.json"), encoding="utf-8") as f:
                return json.load(f).get("scenario")
        except (OSError, ValueError):
            return matrix.item_name(self.spec["item"])

    def _run_results(self):
        trials = errors = 0
        folders = []
        with open(os.path.join(self.dir, "run.jsonl"), encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    t = json.loads(line)
                except ValueError:
                    continue
                if t.get("verdict") == "error":
                    errors += 1
                else:
                    trials += 1
                if t.get("finding"):
                    folders.append(os.path.join(self.dir, t["finding"]) if not
                                   os.path.isabs(t["finding"]) else t["finding"])
        return trials, errors, folders

    def _fuzz_results(self, rc):
        log = open(os.path.join(self.dir, "run.log"), encoding="utf-8", errors="replace").read()
        runs = 0
        for line in log.split("\n"):
            if line.startswith("stat::number_of_executed_units:"):
                runs = int(line.split(":")[-1])
        folders = []
        for crash in sorted(glob.glob(os.path.join(self.dir, "crash-*")) +
                            glob.glob(os.path.join(self.dir, "timeout-*"))):
            argv = [binary(self.root, "asan"), "import", crash, "--report-dir",
                    os.path.join(self.dir, "import"), "--json", "--quiet"]
            for b in self.bugs:
                argv += ["--bug", b]
            p = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir)
            for line in p.stdout.split("\n"):
                try:
                    t = json.loads(line)
                except ValueError:
                    continue
                if t.get("finding"):
                    folders.append(t["finding"])
        return max(runs, 1 if folders else 0), 0, folders


def unreadable(folder, err):
    return {"signature": "error|unreadable-report", "hash": "unreadable", "verdict": "error",
            "check": "report", "title": "a finding folder refstorm could not read: %s" % err,
            "frame": None, "message": str(err), "headline": None}


def tail(path, n=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "\n".join(f.read().split("\n")[-n:])
    except OSError:
        return ""


def binary(root, variant):
    return os.path.join(root, "build", variant, "refstorm")


class Progress:
    """One line on stderr: rewritten in place on a terminal, every 30 s otherwise."""

    def __init__(self, quiet):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def show(self, text, force=False):
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self.last < (1.0 if self.tty else 30.0):
            return
        self.last = now
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def done(self):
        if self.tty and not self.quiet and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()
