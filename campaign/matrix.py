"""The matrix of a campaign: a deterministic, endless list of cells, cut by the budget.

A cell is one `refstorm run` of one item (a scenario, a corpus .scn file or a fuzz target) in
one mode and one variant, over a range of cell_trials seeds.  Cells are numbered round by round:
round r runs every (item, mode, variant) combination once, in an order shuffled by the seed and
the round (so a campaign stopped early has sampled every combination alike), over the seeds
seed + r*cell_trials ... seed + (r+1)*cell_trials - 1, so a campaign stopped by time has covered
every combination about equally.  A budget of N trials makes the list finite: the first
ceil(N / cell_trials) cells, the last one cut to what is left.  A shard i/n runs the cells whose
number is i modulo n, so n shards run exactly the cells of one unsharded campaign.  Everything
here is a function of the matrix parameters alone (never of time or of the machine), so a
resume, a shard and a merge all see the same cells.
"""
import random
import re

DEFAULT_CELL_TRIALS = 100


class BudgetError(ValueError):
    pass


def parse_budget(text):
    """'8h', '30m', '90s', '10000trials' -> {'seconds': S} or {'trials': N}."""
    m = re.fullmatch(r"\s*(\d+)\s*(h|m|s|trials?)\s*", text or "")
    if not m or int(m.group(1)) <= 0:
        raise BudgetError("budget '%s': expected a positive number followed by h, m, s or "
                          "trials (8h, 30m, 90s, 10000trials)" % text)
    n, unit = int(m.group(1)), m.group(2)
    if unit.startswith("trial"):
        return {"trials": n}
    return {"seconds": n * {"h": 3600, "m": 60, "s": 1}[unit]}


def budget_text(budget):
    if "trials" in budget:
        return "%d trials" % budget["trials"]
    s = budget["seconds"]
    if s % 3600 == 0:
        return "%dh" % (s // 3600)
    if s % 60 == 0:
        return "%dm" % (s // 60)
    return "%ds" % s


def parse_shard(text):
    m = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise BudgetError("shard '%s': expected i/n with 0 <= i < n (0/2 and 1/2 are the two "
                          "halves of a matrix)" % text)
    return [int(m.group(1)), int(m.group(2))]


def item_name(item):
    if item["kind"] == "scenario":
        return item["name"]
    if item["kind"] == "scn":
        return item["path"]
    return "fuzz:" + item["target"]


def combos(matrix):
    """The (variant, mode, item) combinations of one round, in their fixed order.  A fuzz
    target runs once per round, in the asan fuzz build (fuzz-tsan cannot grow a corpus)."""
    out = []
    for item in matrix["items"]:  # variants innermost: a short campaign sees all of them
        for mode in matrix["modes"]:
            for variant in matrix["variants"]:
                if item["kind"] != "fuzz":
                    out.append((variant, mode, item))
    for item in matrix["items"]:
        if item["kind"] == "fuzz":
            out.append(("asan", "fuzz", item))
    return out


def round_order(matrix, rnd, n):
    """The order of the combinations in round rnd: a permutation seeded by the matrix seed and
    the round, so that a campaign stopped early has sampled every item, mode and variant alike
    (in their listed order a short campaign would see only the first items)."""
    order = list(range(n))
    random.Random("%d/%d" % (matrix["seed"], rnd)).shuffle(order)
    return order


def cell(matrix, index):
    """Cell number index, or None past the end of a trial budget."""
    cs = combos(matrix)
    k = matrix["cell_trials"]
    trials = k
    budget = matrix["budget"]
    if "trials" in budget:
        left = budget["trials"] - index * k
        if left <= 0:
            return None
        trials = min(k, left)
    rnd = index // len(cs)
    variant, mode, item = cs[round_order(matrix, rnd, len(cs))[index % len(cs)]]
    seed = matrix["seed"] + rnd * k
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", item_name(item))[-60:]
    return {"index": index, "id": "%05d-%s-%s-%s" % (index, variant, mode, slug),
            "variant": variant, "mode": mode, "item": item, "seed": seed, "trials": trials}


def cells(matrix):
    """This shard's cells, in order (endless under a time budget)."""
    i, n = matrix["shard"] or (0, 1)
    index = i
    while True:
        c = cell(matrix, index)
        if c is None:
            return
        yield c
        index += n
