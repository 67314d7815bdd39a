"""Every ```python block of README.md and docs/python.md runs as it stands."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BLOCKS = [(page, i, block) for page in ("README.md", "docs/python.md")
          for i, block in enumerate(re.findall(r"^```python\n(.*?)^```", (ROOT / page).read_text(), re.S | re.M))]


def test_the_pages_have_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("page,index,block", BLOCKS, ids=[f"{p}:{i}" for p, i, _ in BLOCKS])
def test_python_block_runs(page, index, block):
    exec(compile(block, f"{page} block {index}", "exec"), {})
