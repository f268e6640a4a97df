#!/usr/bin/env python3
"""Refresh locale/zh_Hans/LC_MESSAGES/django.po and fill it from locale/pending/*.tsv.

Usage: DEBUG=true .venv/bin/python scripts/i18n_merge.py
A TSV line is msgid<TAB>msgstr, or msgid<TAB>msgstr<TAB>context for a pgettext message.
Runs makemessages (no wrapping, no locations, so diffs stay small), then fills every empty
msgstr whose msgid appears in a pending TSV file (msgid<TAB>msgstr), drops fuzzy flags on the
entries it fills, and lists what is still untranslated.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PENDING = ROOT / "locale" / "pending"


def po_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def po_unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def load_pending() -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> msgstr. A line is `msgid<TAB>msgstr`, or `msgid<TAB>msgstr<TAB>context`
    for a pgettext message: a context-free line never fills a message with a context of Django's
    own ("Change" is 修改 in the admin, 变化 only as a monitoring signal)."""
    table: dict[tuple[str | None, str], str] = {}
    for f in sorted(PENDING.glob("*.tsv")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if "\t" in line and not line.startswith("#"):
                msgid, msgstr, *context = line.split("\t")
                key = (po_unescape(context[0]) if context else None, po_unescape(msgid))
                table[key] = po_unescape(msgstr)
    return table


def main() -> int:
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-wrap",
            "--no-location",
            "--ignore=.venv",
            "--ignore=var",
            "--ignore=tests",
            "--ignore=bench",
            "-v",
            "0",
        ],
        cwd=ROOT,
        check=True,
    )
    table = load_pending()
    text = PO.read_text(encoding="utf-8")
    # "#| msgid" lines (a fuzzy entry's previous text) go together with the fuzzy flag they explain.
    entry = re.compile(
        r"(?P<flags>#, [^\n]*\n)?(?:#\| [^\n]*\n)*"
        r'(?P<ctx>msgctxt "(?:[^"\\]|\\.)*"\n)?'
        r'msgid "(?P<id>(?:[^"\\]|\\.)*)"\nmsgstr "(?P<str>(?:[^"\\]|\\.)*)"'
    )
    missing: list[str] = []

    def fill(m: re.Match[str]) -> str:
        msgid = po_unescape(m.group("id"))
        msgstr = po_unescape(m.group("str"))
        flags = m.group("flags") or ""
        ctx_line = m.group("ctx") or ""
        context = po_unescape(ctx_line[len('msgctxt "') : -2]) if ctx_line else None
        # A message with a context takes its own line first, then a context-free one.
        found = table.get((context, msgid))
        if found is None and context is not None:
            found = table.get((None, msgid))
        if msgid and (not msgstr or "fuzzy" in flags) and found is not None:
            msgstr, flags = found, flags.replace("fuzzy, ", "").replace(", fuzzy", "")
            if flags.strip() == "#, fuzzy":
                flags = ""
        if msgid and "fuzzy" in flags:
            # makemessages guessed from a similar message: such guesses are wrong more often than
            # not ("due date" -> "日期"), so a fuzzy entry counts as untranslated.
            msgstr, flags = "", ""
        if msgid and not msgstr:
            missing.append(msgid)
        return f'{flags}{ctx_line}msgid "{po_escape(msgid)}"\nmsgstr "{po_escape(msgstr)}"'

    PO.write_text(entry.sub(fill, text), encoding="utf-8")
    for msgid in missing:
        print(f"untranslated: {msgid}")
    print(f"{len(missing)} untranslated")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
