"""Lint rules for ``script.py``: it must compile, hold no NUL bytes and fit the size limit."""

from __future__ import annotations

import pytest

from tether.definition.lint import lint_package

from ._builders import package, properties

GOOD = (
    b"class Script(ScriptBase):\n    async def execute(self):\n"
    b"        return await self.context.send(self.context.request)\n"
)
BROKEN = b"class Script(ScriptBase):\n    async def execute(self)\n        pass\n"
LIMIT = 1024 * 1024


def _lint(script: bytes) -> list[tuple[str, str, int | None, str]]:
    with_script = package(props=properties()).replace("script.py", script)
    found = lint_package(with_script)
    return [(f.rule, f.file, f.line, f.message) for f in found if f.rule.startswith("script/")]


def test_a_good_script_has_no_findings() -> None:
    assert _lint(GOOD) == []


def test_a_script_that_does_not_compile_names_its_line() -> None:
    [(rule, file, line, message)] = _lint(BROKEN)
    assert (rule, file, line) == ("script/syntax-error", "pkg/script.py", 2)
    assert "does not compile on line 2: expected ':'" in message


def test_nul_bytes_are_reported_with_their_line() -> None:
    [(rule, _file, line, message)] = _lint(GOOD + b"x = 1\n\x00\n")
    assert (rule, line) == ("script/nul-bytes", 5)
    assert "NUL byte on line 5" in message


@pytest.mark.parametrize(("size", "found"), [(LIMIT, False), (LIMIT + 1, True), (2 * LIMIT, True)])
def test_a_script_over_the_size_limit_is_reported(size: int, found: bool) -> None:
    script = GOOD + b"#" * (size - len(GOOD))
    assert len(script) == size
    rules = [rule for rule, *_ in _lint(script)]
    assert rules == (["script/too-large"] if found else [])
