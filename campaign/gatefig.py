"""The gate's per-mutant figures as a history row's `mutants` object.

    mutants_from_gate(path) -> {"NAME": {"detected": D, "seeds": S, "trials_to_first": T}, ...}

path is the gate's summary.json (`scripts/gate --report-dir DIR` writes DIR/summary.json, the
scoreboard object of harness/report/scoreboard.h).  For each row of its "mutants" array:
detected and seeds are the row's own counts (seeds detected, seeds run); trials_to_first is the
row's median_trials (trials to the first finding, the median over the detected seeds; a whole
number when it is one), or null when no seed detected the mutant.  A mutant that was not
runnable counts as not detected.

Raises ValueError (message naming the file) when the file is not a scoreboard of format 1 or a
mutant row lacks its name or counts; OSError when it cannot be read.

    python3 -m campaign.gatefig SUMMARY_JSON     # prints the object (exit 2 on a bad file)
"""

import json
import math
import sys


def _count(row, key, where):
    v = row.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{where}: {key!r} must be a non-negative integer, not {v!r}")
    return v


def mutants_from_gate(path):
    with open(path, encoding="utf-8") as f:
        try:
            board = json.load(f)
        except ValueError as e:
            raise ValueError(f"{path}: not JSON: {e}") from None
    if not isinstance(board, dict):
        raise ValueError(f"{path}: not a scoreboard (a JSON object)")
    if board.get("format") != 1:
        raise ValueError(f"{path}: scoreboard format {board.get('format')!r}, expected 1")
    rows = board.get("mutants")
    if not isinstance(rows, list):
        raise ValueError(f"{path}: no 'mutants' array")
    out = {}
    for k, row in enumerate(rows):
        where = f"{path}: mutants[{k}]"
        if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not row["name"]:
            raise ValueError(f"{where}: a mutant row needs a name")
        where = f"{path}: mutant {row['name']}"
        seeds = _count(row, "seeds", where)
        detected = _count(row, "detected", where)
        t = row.get("median_trials")
        if detected == 0 or t is None:
            t = None
        elif isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise ValueError(f"{where}: 'median_trials' must be a number, not {t!r}")
        elif t == int(t):
            t = int(t)
        out[row["name"]] = {"detected": detected, "seeds": seeds, "trials_to_first": t}
    return out


def main(argv):
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: python3 -m campaign.gatefig SUMMARY_JSON", file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    try:
        figures = mutants_from_gate(argv[0])
    except (OSError, ValueError) as e:
        print(f"gatefig: {e}", file=sys.stderr)
        return 2
    json.dump(figures, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
