"""The documentation lives in the repository and the tests cite it, not a tracker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)\s]+)\)")
TRACKER = re.compile(r"issue\s*#?\s*\d+|DESIGN(?:\.md| rule)|shared/DESIGN", re.IGNORECASE)


def _relative_links(doc: Path) -> list[str]:
    """The link targets of a Markdown file that are not URLs or in-page anchors."""
    return [
        target
        for target in LINK.findall(doc.read_text(encoding="utf-8"))
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_name_files_inside_the_repository(doc):
    """Every relative link resolves to a file or folder of the checkout, never outside it."""
    assert doc.is_file(), doc
    for target in _relative_links(doc):
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name}: {target} leaves the repository"
        assert path.exists(), f"{doc.name}: {target} does not exist"


def test_the_scanner_sees_a_link_out():
    """The link reader finds a relative link, so the test above can fail."""
    assert _relative_links(ROOT / "README.md"), "README.md has no relative link at all?"
    assert LINK.findall("see [the design](../shared/DESIGN.md)") == ["../shared/DESIGN.md"]


def test_architecture_numbers_its_rules_one_to_ten():
    """The rules the tests cite are numbered 1 to 10 in docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text[text.index("## Rules") : text.index("\n## ", text.index("## Rules") + 1)]
    numbers = [int(n) for n in re.findall(r"^(\d+)\. \*\*", section, re.MULTILINE)]
    assert numbers == list(range(1, 11))


def test_tests_cite_docs_not_a_tracker():
    """Tests name the architecture's rules or the reason in words, not tracker issue numbers."""
    cited = []
    for path in sorted((ROOT / "tests").rglob("*")):
        if path.suffix in (".py", ".yaml") and path.name != "test_docs.py":
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if TRACKER.search(line):
                    cited.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert cited == []
    assert TRACKER.search("a regression (issue #7)") and TRACKER.search("DESIGN rule 3")
