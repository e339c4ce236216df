"""Links to documentation pages lead somewhere.

A docstring once sent contributors to ``docs/contributing-kinds.md``, a page that never existed
(the page is docs/adding-a-kind.md; issue 26). Two checks keep that from coming back:

* every relative Markdown link in ``docs/*.md``, README.md and the plugins' READMEs names a file
  that exists;
* every mention of ``docs/<page>.md`` in the files git tracks (code, tests, configuration, docs)
  names a page that exists.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")
DOCS_MENTION = re.compile(r"(?<![\w/.-])docs/[\w./-]+?\.md\b")
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".parquet", ".xlsx", ".sqlite", ".db", ".duckdb", ".ico", ".pdf"}


def broken_links(page: Path, text: str) -> list[str]:
    """Relative link targets of Markdown ``text`` (on ``page``) that do not exist."""
    targets = [m.group(1) for m in MARKDOWN_LINK.finditer(text)]
    return [t for t in targets if not re.match(r"[a-zA-Z][a-zA-Z+.-]*:", t) and not (page.parent / t).exists()]


def missing_pages(text: str) -> list[str]:
    """``docs/<page>.md`` mentioned in ``text`` that do not exist in the repository."""
    return [m.group(0) for m in DOCS_MENTION.finditer(text) if not (ROOT / m.group(0)).exists()]


def test_the_checks_find_what_is_missing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("x", encoding="utf-8")
    text = "[a](there.md) [b](gone.md#part) [c](https://example.com/x.md) [d](#anchor) [e](mailto:a@b.c)"
    assert broken_links(page, text) == ["gone.md"]
    assert missing_pages('"""Adding a kind (docs/contributing-kinds.md): see docs/adding-a-kind.md."""') == [
        "docs/contributing-kinds.md"]
    assert missing_pages("site/docs/other.md and mydocs/x.md are not ours") == []


def test_markdown_links_resolve() -> None:
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", *sorted((ROOT / "plugins").glob("*/README.md"))]
    assert len(pages) > 10
    broken = [f"{page.relative_to(ROOT)}: ({target})"
              for page in pages for target in broken_links(page, page.read_text(encoding="utf-8"))]
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


def test_mentions_of_docs_pages_resolve() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = [ROOT / name for name in tracked.decode().split("\0") if name]
    files = [f for f in files if f.is_file() and f.suffix.lower() not in BINARY_SUFFIXES
             and "golden" not in f.relative_to(ROOT).parts and f != Path(__file__).resolve()]  # this file names one
    assert len(files) > 100
    missing = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        missing += [f"{path.relative_to(ROOT)}: {page}" for page in missing_pages(text)]
    assert not missing, "mentions of documentation pages that do not exist:\n" + "\n".join(missing)
