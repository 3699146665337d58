"""The README's usage example runs exactly as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_readme_usage_example_runs(capsys):
    blocks = python_blocks(README)
    assert blocks, "README has no python example"
    for code in blocks:
        exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert "'accuracy'" in out and "'W'" in out


def test_readme_has_exactly_two_setup_commands():
    section = README.read_text().split("## Set up")[1].split("\n## ")[0]
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(commands) == 2
    assert "examples/cifar10_single_layer.py" in commands[0]
    assert "pytest" in commands[1]
