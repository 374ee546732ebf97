"""The CI template for students' repositories stays in step with the command line it calls."""
import re
import shlex
from pathlib import Path

import pytest

from grader.cli import main

CI = Path(__file__).resolve().parents[3] / "exercises" / "ci"
yaml = pytest.importorskip("yaml")


def steps() -> list[dict]:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text("utf-8"))
    assert set(workflow[True]) >= {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True
    return workflow["jobs"]["check"]["steps"]


def parse(command: str):
    """The click context `command` would run with; raises if an option does not exist."""
    words = shlex.split(command)
    assert words[0] == "grade"
    name, *args = words[1:]
    sub = main.get_command(None, name)
    return sub.make_context(name, args)


def test_the_workflow_runs_grade_check_with_options_that_exist():
    run = next(s["run"] for s in steps() if "grade check" in s.get("run", ""))
    params = parse(run).params
    assert params["formats"] == ("junit", "md") and params["fail_under"] == 100.0
    report = next(s for s in steps() if "action-junit-report" in s.get("uses", ""))
    assert report["with"]["report_paths"] == f"{params['out_dir']}/junit.xml"
    assert report["if"] == "always()"


def test_the_student_id_reaches_the_grader():
    run_step = next(s for s in steps() if "grade check" in s.get("run", ""))
    assert "BPG_STUDENT_ID" in run_step["env"]
    assert any(o.envvar == "BPG_STUDENT_ID" for o in main.get_command(None, "check").params
               if getattr(o, "envvar", None))


def test_the_readme_commands_parse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the paths the commands name must exist
    for folder in ("submissions", "grades", "grades-1", "grades-2", "grades-3", "grades-4"):
        (tmp_path / folder).mkdir()
    text = (CI / "README.md").read_text("utf-8")
    commands = [re.sub(r"\s*\\\n\s*", " ", block) for block in re.findall(r"```sh\n(.*?)```", text, re.S)]
    lines = [line.strip() for block in commands for line in block.splitlines()
             if line.strip().startswith("grade ")]
    assert len(lines) == 3
    for line in lines:
        line = line.replace('"$K/4"', "1/4").replace('"grades-$K"', "grades-1")
        if line.split()[1] in ("report", "check"):
            parse(line)
        else:  # `grade PATH...` is the hidden default command
            main.get_command(None, "grade").make_context("grade", shlex.split(line)[1:])
