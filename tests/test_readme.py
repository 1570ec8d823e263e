"""The README's Python examples run as written (in order, sharing one namespace)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        for block in blocks:
            # the project's own documentation, not user input
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    printed = out.getvalue()
    assert "32×⌊(n - k + 1)/3⌋×⌊(n - k + 1)/3⌋" in printed
    assert "MaxPool2d(kernel_size=2) at layer 4 (pool2)" in printed
    assert "64·⌊(n - 4·k + 4)/6⌋²" in printed
    assert namespace["mnist"].params == 105506  # type: ignore[attr-defined]
    assert namespace["block"].params == 73984  # type: ignore[attr-defined]
    n = namespace["n"]
    assert namespace["torch_lenet"].constraints == (n >= 28, n <= 33)  # type: ignore[attr-defined]
    assert "800·(n - 4)² + 51200·(⌊(n - 4)/3⌋ - 4)² + 53200" in printed
    assert "rows per sample in PyTorch = 4) (n=40)" in printed
