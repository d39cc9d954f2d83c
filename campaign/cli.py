"""The commands: campaign, merge, plot (scripts/campaign WORD ..., or scripts/refstorm WORD)."""
import argparse
import datetime
import os
import subprocess
import sys

from . import drive, journal, matrix as matrixmod, merge as mergemod

MODES = ("free", "chaos", "pct")
VARIANTS = ("asan", "tsan", "release")
MATRIX_FLAGS = ("budget", "variants", "modes", "scenarios", "corpus", "fuzz", "shard", "seed",
                "cell_trials", "bug")

CAMPAIGN_HELP = """\
Runs N workers in parallel over a deterministic matrix of item x mode x variant x seed range
(items: the scenarios, the .scn files of --corpus, the fuzz targets with --fuzz) until the
budget is spent; deduplicates findings into buckets by signature; shrinks and replays one
reproducer per bucket; writes summary.md, summary.json, junit.xml and results.sarif in --out and
appends a row to --history.  Progress goes to stderr.  Exit status: 0 no bucket, 1 buckets,
2 usage error, 3 internal error (a build failed), 130/143 interrupted by SIGINT/SIGTERM (workers
ended, results journaled, summary written; --resume DIR goes on).
"""


def say(text):
    sys.stderr.write("campaign: %s\n" % text)
    sys.stderr.flush()


class Usage(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def csv(values, allowed, what):
    out = [v for v in values.split(",") if v]
    for v in out:
        if v not in allowed:
            raise Usage("unknown %s '%s' (%s)" % (what, v, ", ".join(allowed)))
    if not out:
        raise Usage("--%ss needs at least one %s" % (what, what))
    return out


def build(root, targets):
    p = subprocess.run(["ninja", "-C", root] + targets, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-2000:])
        return False
    return True


def scenario_names(root, variant):
    p = subprocess.run([os.path.join(root, "build", variant, "refstorm"), "list"],
                       capture_output=True, text=True)
    names, inside = [], False
    for line in p.stdout.split("\n"):
        if line.startswith("scenarios"):
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                break
            names.append(line.split()[0])
    return names


def campaign_parser():
    p = Parser(prog="scripts/campaign campaign", description=CAMPAIGN_HELP,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", help="8h, 30m, 90s or 10000trials (default 1h): no cell starts "
                   "after the time; a trial budget is exact and makes the matrix finite")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="cells run at once (default: the number of cores)")
    p.add_argument("--out", help="output folder (default reports/campaign-<UTC time>)")
    p.add_argument("--resume", metavar="DIR", help="go on with the campaign in DIR: its matrix "
                   "comes from its journal (matrix flags are refused)")
    p.add_argument("--variants", help="asan,tsan,release (default asan,tsan)")
    p.add_argument("--modes", help="free,chaos,pct (default all three)")
    p.add_argument("--scenarios", help="a,b,... (default: every scenario of `refstorm list`)")
    p.add_argument("--corpus", metavar="DIR", help="also every .scn file under DIR")
    p.add_argument("--fuzz", action="store_true", help="also the fuzz target fuzz_program with "
                   "its seed corpus (asan fuzz build; a crash becomes a finding via import)")
    p.add_argument("--shard", help="i/n: run the cells whose number is i modulo n")
    p.add_argument("--seed", type=int, help="first scheduler seed (default 1)")
    p.add_argument("--cell-trials", type=int, help="trials per cell (default %d)"
                   % matrixmod.DEFAULT_CELL_TRIALS)
    p.add_argument("--bug", action="append", help="switch a mutant on in every cell "
                   "(repeatable; to see a campaign find something)")
    p.add_argument("--history",
                   help="history file a finished campaign appends its row to (default "
                   "reports/history.jsonl); 'none' for no history.  This and the three below "
                   "are kept in the journal: a resume uses them unless given again")
    p.add_argument("--mutants-from", metavar="SUMMARY_JSON",
                   help="the gate's summary.json: its per-mutant figures go into the history row")
    p.add_argument("--shrink-time", type=int,
                   help="seconds of shrinking per new bucket (default 60; 0: no shrinking)")
    p.add_argument("--replays", type=int,
                   help="replays of each bucket's reproducer for its rate (default 5)")
    p.add_argument("--no-build", action="store_true", help="do not run ninja first")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    return p


def cmd_campaign(root, argv):
    drive.catch_signals()
    opts = campaign_parser().parse_args(argv)
    opts.argv = argv
    settings = {"history": "reports/history.jsonl", "shrink_time": 60, "replays": 5,
                "mutants_from": None}
    if opts.jobs < 1:
        raise Usage("-j needs at least 1")
    records = None
    if opts.resume:
        given = [f for f in MATRIX_FLAGS if getattr(opts, f) not in (None, False)]
        if given:
            raise Usage("--resume takes the matrix from the journal; drop --%s"
                        % given[0].replace("_", "-"))
        out = os.path.abspath(opts.resume)
        j = journal.Journal(out)
        if not j.exists():
            raise Usage("%s: no journal.jsonl: not a campaign folder" % opts.resume)
        try:
            records = j.read()
        except journal.JournalError as e:
            raise Usage(str(e))
        m = records[0]["matrix"]
        settings.update(records[0].get("settings") or {})
    else:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        out = os.path.abspath(opts.out or os.path.join(root, "reports", "campaign-" + stamp))
        if journal.Journal(out).exists():
            raise Usage("%s already holds a campaign: --resume %s to go on, or another --out"
                        % (out, out))
        try:
            m = {"budget": matrixmod.parse_budget(opts.budget or "1h"),
                 "shard": matrixmod.parse_shard(opts.shard) if opts.shard else None}
        except matrixmod.BudgetError as e:
            raise Usage(str(e))
        m["variants"] = csv(opts.variants or "asan,tsan", VARIANTS, "variant")
        m["modes"] = csv(opts.modes or "free,chaos,pct", MODES, "mode")
        m["seed"] = opts.seed if opts.seed is not None else 1
        m["cell_trials"] = (opts.cell_trials if opts.cell_trials is not None
                            else matrixmod.DEFAULT_CELL_TRIALS)
        if m["cell_trials"] < 1 or m["seed"] < 0:
            raise Usage("--cell-trials needs at least 1 and --seed at least 0")
        m["bugs"] = opts.bug or []
        m["items"] = []
    for key in settings:  # a flag given now wins over the journal's (resume) or the default
        if getattr(opts, key) is not None:
            settings[key] = getattr(opts, key)
    if settings["history"] in (None, "none"):
        settings["history"] = None
    else:
        settings["history"] = os.path.abspath(settings["history"])
    if settings["mutants_from"]:
        settings["mutants_from"] = os.path.abspath(settings["mutants_from"])
    opts.settings = settings
    for key, value in settings.items():
        setattr(opts, key, value)
    variants = sorted(set(m["variants"]) | {"asan"})
    targets = ["build/%s/refstorm" % v for v in variants]
    if opts.resume is None and opts.fuzz or any(i["kind"] == "fuzz" for i in m["items"]):
        targets.append("build/fuzz/fuzz_program")
    if not opts.no_build:
        say("building %s" % " ".join(targets))
        if not build(root, targets):
            say("the build failed")
            return 3
    if records is None:
        known = scenario_names(root, m["variants"][0])
        names = known if not opts.scenarios else [s for s in opts.scenarios.split(",") if s]
        for s in names:
            if s not in known:
                raise Usage("unknown scenario '%s' (refstorm list names them)" % s)
        m["items"] = [{"kind": "scenario", "name": s} for s in names]
        if opts.corpus:
            if not os.path.isdir(opts.corpus):
                raise Usage("--corpus %s: not a folder" % opts.corpus)
            for dirpath, _, files in sorted(os.walk(opts.corpus)):
                if os.sep + "bad" in dirpath:
                    continue  # corpus/scn/bad: malformed on purpose
                for f in sorted(files):
                    if f.endswith(".scn"):
                        m["items"].append({"kind": "scn", "path": os.path.relpath(
                            os.path.abspath(os.path.join(dirpath, f)), root)})
        if opts.fuzz:
            m["items"].append({"kind": "fuzz", "target": "fuzz_program"})
        if not m["items"]:
            raise Usage("the matrix is empty")
        os.makedirs(out, exist_ok=True)
    say("%s: %s, %d items x %s x %s, %d trials per cell, -j %d" % (
        out, matrixmod.budget_text(m["budget"]), len(m["items"]), ",".join(m["modes"]),
        ",".join(m["variants"]), m["cell_trials"], opts.jobs))
    return drive.Campaign(root, out, m, opts, say).run(records)


def cmd_merge(root, argv):
    p = Parser(prog="scripts/campaign merge", description="Merge the output folders of the "
               "shards of one campaign into one: buckets deduplicated, reproducers kept, the "
               "outputs written and one history row (the shards' combined) appended.")
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p.add_argument("--out", required=True)
    p.add_argument("--history", default=None, help="history file for the combined row")
    opts = p.parse_args(argv)
    return mergemod.merge(root, [os.path.abspath(d) for d in opts.dirs],
                          os.path.abspath(opts.out), opts.history and os.path.abspath(opts.history),
                          say, Usage)


def cmd_plot(root, argv):
    from . import plot
    return plot.main(argv)


COMMANDS = {"campaign": cmd_campaign, "merge": cmd_merge, "plot": cmd_plot}


def main(root, argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write("usage: scripts/campaign campaign [FLAGS]   (--help for the flags)\n"
                         "       scripts/campaign merge DIR... --out DIR [--history FILE]\n"
                         "       scripts/campaign plot HISTORY [--out DIR] [--png]\n\n"
                         + CAMPAIGN_HELP)
        return 0 if argv else 2
    cmd = COMMANDS.get(argv[0])
    try:
        if cmd is None:
            raise Usage("unknown command '%s' (campaign, merge, plot)" % argv[0])
        return cmd(root, argv[1:])
    except Usage as e:
        sys.stderr.write("campaign: %s\n" % e)
        return 2
