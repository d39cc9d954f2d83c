"""A finding folder -> the signature of its bug.

The signature is what two findings of the same bug share and two different bugs do not:
  sanitizer reports  the tool, the kind of report and the top frames of the first stack that
                     lie in runtime/ (function names only: no addresses, no line numbers, no
                     harness or scheduler frames); for a TSan data race the unordered pair of
                     the two racing functions (the top frame of each access)
  invariants         the check alone: a validator notices a broken invariant at whichever op or
                     stop-the-world point runs next, so the op blamed is incidental (one bug
                     seen at three ops would be three buckets); the title names the op
  runtime fatals     the check (SIGABRT) and the fatal line, addresses and numbers removed
  leaks              the check alone, for the same reason (adding the scenario split one
                     mutant's leak into a bucket per scenario that reaches it)
Findings without a stack are therefore bucketed by the check they break: two different bugs
that break the same check share a bucket until one of them is fixed.
  hangs, crashes     the check (watchdog or signal), then runtime frames when the log has a
                     stack, else the kind of the op blamed
Seeds, trial numbers, thread numbers, addresses and messages with numbers in them are never part
of it, so the same bug found in a thousand trials is one bucket.
"""
import hashlib
import json
import os
import re

FRAME = re.compile(r"^\s*#(\d+)\s+(?:0x[0-9a-fA-F]+\s+in\s+)?(\S+)(?:\s+(\S+?):(\d+)(?::\d+)?)?"
                   r"(?=\s|$)")
HEADLINE = re.compile(r"(ERROR: AddressSanitizer: \S+|WARNING: ThreadSanitizer: [^(\n]+|"
                      r"ERROR: LeakSanitizer: [^\n]+|runtime error: [^\n]+)")
RUNTIME_PATH = re.compile(r"(?:^|/)(runtime/[^:]+)$")
TOP_FRAMES = 3


def runtime_path(path):
    m = RUNTIME_PATH.search(path or "")
    return m.group(1) if m else None


def stacks(lines):
    """The stacks of a sanitizer report: lists of (function, file, line), each from its #0."""
    out, cur = [], None
    for line in lines:
        m = FRAME.match(line)
        if not m:
            if cur:
                out.append(cur)
            cur = None
            continue
        if m.group(1) == "0" or cur is None:
            if cur:
                out.append(cur)
            cur = []
        cur.append((m.group(2), m.group(3), int(m.group(4)) if m.group(4) else None))
    if cur:
        out.append(cur)
    return out


def report_block(log):
    """From the first sanitizer headline to the end of that report: (headline, lines)."""
    lines = log.split("\n")
    for i, line in enumerate(lines):
        m = HEADLINE.search(line)
        if m:
            end = len(lines)
            for j in range(i + 1, len(lines)):
                if lines[j].startswith("SUMMARY: ") or lines[j].startswith("=" * 18):
                    end = j
                    break
            return m.group(1).strip(), lines[i + 1:end]
    return None, []


def normalise(text):
    text = re.sub(r"0x[0-9a-fA-F]+", "ADDR", text)
    return re.sub(r"\d+", "N", text).strip()


def wrapper(path):
    """Frames that say nothing of the bug: sanitizer interceptors (memset, aligned_alloc: no
    source file) and the runtime's inline helpers (runtime/include/rs/atomic.h, object.h)."""
    return not path or path == "<null>" or "/runtime/include/" in path or path.startswith(
        "runtime/include/")


def meaningful(stack):
    return [(f, p, l) for f, p, l in stack if not wrapper(p)]


def runtime_frames(stack):
    return [(f, runtime_path(p), l) for f, p, l in meaningful(stack) if runtime_path(p)]


def sanitizer_signature(headline, lines):
    """(tool and kind, frame part, the frame for locations, title)."""
    st = stacks(lines)
    if headline.startswith("runtime error:"):
        kind = "ubsan|" + normalise(headline[len("runtime error:"):])
    elif "ThreadSanitizer" in headline:
        kind = "tsan|" + headline.split("ThreadSanitizer:", 1)[1].strip()
    elif "LeakSanitizer" in headline:
        kind = "lsan|leak"
    else:
        kind = "asan|" + headline.split("AddressSanitizer:", 1)[1].strip()
    where = None
    for s in st:
        rf = runtime_frames(s)
        if rf:
            where = rf[0]
            break
    if kind == "tsan|data race" and len(st) >= 2:
        tops = [(meaningful(s) or s)[0][0] for s in st[:2]]
        pair = sorted(tops)
        return kind, "~".join(pair), where, "TSan data race: %s ~ %s" % tuple(pair)
    first = st[0] if st else []
    rf = [f for f, _, _ in runtime_frames(first)][:TOP_FRAMES]
    if not rf:  # no runtime frame: the top frames that are not the harness's
        rf = [f for f, p, _ in meaningful(first) if "/harness/" not in p][:1]
    return kind, ">".join(rf), where, "%s: %s" % (kind.replace("|", " "), " < ".join(rf) or "?")


def fatal(report):
    """The runtime's own fatal line (rs_fatal), without its 'refstorm runtime fatal error: '."""
    h = report.get("headline") or ""
    tag = "runtime fatal error:"
    return h.split(tag, 1)[1].strip() if tag in h else None


def op_kind(report):
    op = report.get("op")
    return op.split()[0] if isinstance(op, str) and op.split() else "-"


def of_folder(folder):
    """Signature record of a finding folder (report.json, sanitizer.log)."""
    with open(os.path.join(folder, "report.json"), encoding="utf-8") as f:
        report = json.load(f)
    try:
        with open(os.path.join(folder, "sanitizer.log"), encoding="utf-8", errors="replace") as f:
            log = f.read()
    except OSError:
        log = ""
    return of_report(report, log)


def of_report(report, log):
    verdict = report.get("verdict") or "?"
    check = report.get("check") or "?"
    headline, lines = report_block(log)
    where = None
    if verdict in ("sanitizer", "crash") and headline:
        kind, frames, where, title = sanitizer_signature(headline, lines)
        sig = "%s|%s|%s" % (verdict, kind, frames)
    elif verdict == "invariant":
        sig = "invariant|%s" % check
        op = op_kind(report)
        title = "invariant %s (first seen %s)" % (
            check, "at op " + op if op != "-" else "outside any op: a pause or shutdown check")
    elif verdict == "hang":
        sig = "hang|%s|op=%s" % (check, op_kind(report))
        title = "hang (%s) at op %s" % (check, op_kind(report))
    elif verdict == "crash" and fatal(report):
        sig = "crash|%s|fatal:%s" % (check, normalise(fatal(report)))
        title = "crash %s: %s" % (check, normalise(fatal(report)))
    elif verdict == "crash":
        st = stacks(log.split("\n"))
        rf = [f for f, _, _ in runtime_frames(st[0])][:TOP_FRAMES] if st else []
        if st and runtime_frames(st[0]):
            where = runtime_frames(st[0])[0]
        sig = "crash|%s|%s" % (check, ">".join(rf) if rf else "op=" + op_kind(report))
        title = "crash %s %s" % (check, " < ".join(rf) if rf else "at op " + op_kind(report))
    elif verdict == "leak":
        sig = "leak|%s" % check
        title = "leak (%s), first seen in %s" % (check, report.get("scenario") or "-")
    else:
        sig = "%s|%s" % (verdict, check)
        title = "%s %s" % (verdict, check)
    return {
        "signature": sig,
        "hash": hashlib.sha1(sig.encode()).hexdigest()[:16],
        "verdict": verdict,
        "check": check,
        "title": title,
        "frame": {"function": where[0], "file": where[1], "line": where[2]} if where else None,
        "message": report.get("message") or "",
        "headline": report.get("headline"),
    }
