#!/usr/bin/env python3
"""Summarises a ctest JUnit report (ctest --output-junit): every skipped test with its reason, then one line
"NAME: N passed, N failed, N skipped". Usage: test-summary.py REPORT.xml [NAME]"""
import re
import sys
import xml.etree.ElementTree as ET

report, name = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "tests")
try:
    cases = ET.parse(report).getroot().iter("testcase")
except (OSError, ET.ParseError) as e:
    print(f"test-summary: cannot read {report}: {e}", file=sys.stderr)
    sys.exit(1)
passed = failed = 0
skipped = []
for case in cases:
    status = case.get("status", "")
    if case.find("skipped") is not None or status in ("notrun", "disabled"):
        out = case.findtext("system-out") or ""
        # GoogleTest prints the reason of GTEST_SKIP() << "..." on the line after "Skipped".
        m = re.search(r"Skipped\s*\n(.+)", out)
        reason = m.group(1).strip() if m else "skipped (exit code or regex)"
        skipped.append((case.get("name"), reason))
    elif case.find("failure") is not None or status == "fail":
        failed += 1
    else:
        passed += 1
for test, reason in skipped:
    print(f"skipped: {test}: {reason}")
print(f"{name}: {passed} passed, {failed} failed, {len(skipped)} skipped")
