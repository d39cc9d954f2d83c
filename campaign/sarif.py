"""results.sarif: SARIF 2.1.0, one result per bucket, in the form GitHub code scanning takes.

ruleId is the check (H1, leak, tsan, SIGSEGV, ...), each rule listed in the driver with its
description from docs/checks.md; the location is the top runtime frame's file and line, or, for
a check with no stack (invariants, leaks), the check's entry in docs/checks.md; the signature's
hash is the partial fingerprint, so code scanning follows one bug across campaigns; the message
says what was found and how to replay it.
"""
import json
import os
import re

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def check_lines(root):
    """check code -> (line of its heading in docs/checks.md, its first sentence)."""
    out = {}
    path = os.path.join(root, "docs", "checks.md")
    try:
        lines = open(path, encoding="utf-8").read().split("\n")
    except OSError:
        return out
    for i, line in enumerate(lines):
        m = re.match(r"###\s+`?([^`\s]+)`?", line)
        if m:
            text = ""
            for nxt in lines[i + 1:i + 8]:
                if nxt.strip() and not nxt.startswith("#"):
                    text = nxt.strip()
                    break
            out[m.group(1)] = (i + 1, text)
    return out


def document(root, meta, buckets):
    checks = check_lines(root)
    rules, index = [], {}
    for b in buckets:
        if b["check"] not in index:
            index[b["check"]] = len(rules)
            line, text = checks.get(b["check"], (None, ""))
            rules.append({
                "id": b["check"],
                "name": re.sub(r"[^A-Za-z0-9]", "", b["verdict"].title() + b["check"]) or "Check",
                "shortDescription": {"text": "%s: %s" % (b["verdict"], b["check"])},
                "fullDescription": {"text": text or "refstorm check %s (verdict %s)"
                                    % (b["check"], b["verdict"])},
                "helpUri": "docs/checks.md",
                "properties": {"verdict": b["verdict"]}})
    results = []
    for b in buckets:
        frame = b.get("frame")
        if frame and frame.get("file") and frame.get("line"):
            uri, line = frame["file"], frame["line"]
        else:
            uri, line = "docs/checks.md", checks.get(b["check"], (1, ""))[0]
        rep = b.get("reproducer") or {}
        text = "%s: %s, %d finding%s (%s). Replay: %s" % (
            b["title"], b["message"][:300] or b["verdict"], b["count"],
            "" if b["count"] == 1 else "s", ", ".join(b["scenarios"]) or "-",
            rep.get("replay") or "-")
        results.append({
            "ruleId": b["check"], "ruleIndex": index[b["check"]], "level": "error",
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": line}}}],
            "partialFingerprints": {"refstormSignature/v1": b["hash"]},
            "properties": {"signature": b["signature"], "count": b["count"],
                           "modes": b["modes"], "variants": b["variants"]}})
    return {
        "$schema": SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "refstorm", "semanticVersion": "1.0.0",
                                "informationUri": "https://example.invalid/refstorm",
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "file://" + root.rstrip("/") + "/"}},
            "versionControlProvenance": [{"repositoryUri": "https://example.invalid/refstorm",
                                          "revisionId": meta["commit_full"]}]
            if meta.get("commit_full") else [],
            "automationDetails": {"id": "refstorm-campaign/" + meta["started"]},
            "results": results}]}


def write(path, root, meta, buckets, writer):
    writer(path, json.dumps(document(root, meta, buckets), indent=2) + "\n")
