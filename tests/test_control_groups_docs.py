"""The worked examples of docs/control-groups.md show what metricspec computes.

Every fenced ```yaml block there that is a full spec (it has ``name:``) is run on the example data as of
2026-11-01 (tests/test_docs.py runs it too); the ```text block right after it must be the control-group
tables of ``metricspec run --format markdown`` for it, byte for byte. Regenerate a changed example's
text block from :func:`example_tables` (``python -c "from tests.test_control_groups_docs import ..."``).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from test_docs import Block, classify, fenced_blocks

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "control-groups.md"
EXAMPLES = ROOT / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)


def doc_examples() -> list[tuple[Block, Block | None]]:
    """(full-spec yaml block, the text block right after it or None)."""
    blocks = fenced_blocks(DOC)
    out = []
    for i, b in enumerate(blocks):
        if b.lang == "yaml" and classify(b) == "spec":
            after = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1].lang == "text" else None
            out.append((b, after))
    return out


def example_tables(block: Block, folder: Path) -> str:
    """The control-group lines (tables) of the Markdown output of ``block`` run in ``folder``."""
    from metricspec.engine.run import evaluate
    from metricspec.loader import load_spec
    from metricspec.render.markdown import results_markdown

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in ("data", "shared"):
        shutil.copytree(EXAMPLES / name, folder / name)  # copies: specs are confined to their project root
    (folder / "spec.yaml").write_text(block.text, encoding="utf-8")
    md = results_markdown(evaluate(load_spec(folder / "spec.yaml"), as_of=AS_OF))
    start = md.index("### Control group:")
    lines = [ln for ln in md[start:].splitlines() if ln.startswith("|")]
    return "\n".join(lines) + "\n"


def test_the_page_has_worked_examples() -> None:
    examples = doc_examples()
    assert len(examples) >= 6
    assert all(after is not None for _, after in examples), "every worked example is followed by its output"


@pytest.mark.parametrize("index", range(len(doc_examples())))
def test_worked_example_output_is_what_metricspec_prints(index: int, tmp_path: Path) -> None:
    block, after = doc_examples()[index]
    assert after is not None
    assert example_tables(block, tmp_path / "spec") == after.text, (
        f"{block.id}: the ```text block after the example differs from what the example prints")
