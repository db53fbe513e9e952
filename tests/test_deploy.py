"""The shipped deployment works and holds no more rights than it needs (issue 14, item 8).

Regressions:

- ``make rsync_upload`` passed ``--cleanup``, which is no rsync option (pelican-quickstart's template
  has ``--cvs-exclude``): rsync refused to start, so ``make daily DEPLOY=rsync_upload``, the
  documented cron job, never uploaded anything. The target runs here with real rsync, against a
  folder on this machine (RSYNC_TARGET), with ``-o publish``: the site is a prepared output folder,
  not a build.
- The GitHub workflow gave every job ``contents: write``, ``pages: write`` and ``id-token: write``,
  and ran actions by movable tags. Now each job has only what it needs (the job that runs the
  project's code reads), and every action is pinned to a full commit SHA.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "daily.yml"


def _need(program: str) -> str:
    """The program's path; skip without it, or fail under CI (.ci/run installs rsync)."""
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (apt-get install {program})"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{message} [CI is set, so this fails instead of skipping]", pytrace=False)
        pytest.skip(message)
    return path


def _make(*args: str) -> subprocess.CompletedProcess:
    _need("make")
    # PY: a Python as it is (no .venv install check); MAKEFLAGS/MAKELEVEL of a calling make dropped
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(["make", "--no-print-directory", "PY=python3", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _site(folder: Path) -> Path:
    """A small built site: pages, a tags/ folder, a theme file."""
    files = {"index.html": "<p>home</p>", "a-post.html": "<p>post</p>", "tags/weather.html": "<p>tag</p>",
             "tag/rain.html": "<p>tag</p>", "theme/css/main.css": "body{}", "feeds/all.atom.xml": "<feed/>"}
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


def _tree(folder: Path) -> dict[str, str]:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    return {str(path.relative_to(folder)): path.read_text(encoding="utf-8") for path in files}


def test_rsync_upload_copies_the_site_and_removes_what_it_no_longer_has(tmp_path):
    _need("rsync")
    output = _site(tmp_path / "output")
    target = tmp_path / "www"
    (target / "tags").mkdir(parents=True)
    (target / "gone.html").write_text("a page the site no longer has", encoding="utf-8")
    (target / "tags" / "old.html").write_text("an old tag page", encoding="utf-8")
    done = _make("-o", "publish", "rsync_upload", f"OUTPUTDIR={output}", f"RSYNC_TARGET={target}")
    assert done.returncode == 0, done.stdout + done.stderr  # before the fix: rsync: --cleanup: unknown option
    assert "--cleanup" not in done.stdout + done.stderr
    assert _tree(target) == _tree(output)  # tags/ included, stale files deleted
    # once more: nothing to copy, nothing lost
    again = _make("-o", "publish", "rsync_upload", f"OUTPUTDIR={output}", f"RSYNC_TARGET={target}")
    assert again.returncode == 0 and _tree(target) == _tree(output), again.stdout + again.stderr


def test_rsync_upload_goes_over_ssh_to_the_ssh_settings_by_default():
    done = _make("-n", "-o", "publish", "rsync_upload", "SSH_HOST=example.org", "SSH_PORT=2222",
                 "SSH_USER=deploy", "SSH_TARGET_DIR=/srv/www")
    assert done.returncode == 0, done.stderr
    [command] = [line for line in done.stdout.splitlines() if line.startswith("rsync ")]
    assert '-e "ssh -p 2222"' in command and command.endswith('"deploy@example.org:/srv/www"')
    assert "--cvs-exclude" in command and "--delete" in command and "--include tags" in command


def test_make_daily_uploads_the_site_it_built_without_building_it_again():
    """DEPLOY=rsync_upload runs after the daily build: one pelican run, then rsync (publish would
    build the site a second time, with PUBLISHCONF rather than DAILY_CONF)."""
    done = _make("-n", "daily", "DEPLOY=rsync_upload", "RSYNC_TARGET=/srv/www")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum("-m pelican" in line for line in lines) == 1, done.stdout
    assert lines[-1].startswith("rsync ") and lines[-1].endswith('"/srv/www"'), done.stdout


# --- the GitHub workflow ------------------------------------------------------------------------

# What each job's token may do: nothing more. "build" runs the project and the packages it installs.
JOB_PERMISSIONS = {
    "build": {"contents": "read"},
    "push": {"contents": "write"},
    "deploy": {"pages": "write", "id-token": "write"},
}
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(\S+))?\s*$")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_the_workflow_grants_nothing_by_default_and_each_job_only_what_it_needs(workflow):
    assert workflow["permissions"] == {}  # a job that names no permissions gets none
    jobs = workflow["jobs"]
    assert set(jobs) == set(JOB_PERMISSIONS)
    for name, job in jobs.items():
        assert job.get("permissions") == JOB_PERMISSIONS[name], name


def test_jobs_that_run_the_project_cannot_write(workflow):
    """Wherever the project's code or a package from PyPI runs, the token only reads, and checkout
    does not leave it in .git/config."""
    for name, job in workflow["jobs"].items():
        scripts = " ".join(step.get("run", "") for step in job.get("steps", []))
        runs_project = any(word in scripts for word in ("make ", "pip install", "pelican"))
        writes = [scope for scope, level in job["permissions"].items() if level == "write"]
        if runs_project:
            assert writes == [], (name, writes)
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, name
    # the one job that pushes runs nothing of the project's, and is the only one that may write contents
    pushers = [name for name, job in workflow["jobs"].items()
               if "git push" in " ".join(step.get("run", "") for step in job["steps"])]
    writers = [name for name, job in workflow["jobs"].items()
               if job["permissions"].get("contents") == "write"]
    assert pushers == writers


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_tag(workflow):
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    uses = [step["uses"] for step in steps if "uses" in step]
    uses += [job["uses"] for job in workflow["jobs"].values() if "uses" in job]
    assert uses, "no actions found"
    for ref in uses:
        assert PINNED.match(ref), f"{ref}: pin it to a full commit SHA (the tag in a comment)"
    lines = [USES_LINE.match(line) for line in WORKFLOW.read_text(encoding="utf-8").splitlines()]
    tagged = [(match.group(1), match.group(2)) for match in lines if match]
    assert [ref for ref, _ in tagged] == uses
    for ref, tag in tagged:
        assert tag and re.fullmatch(r"v\d+(\.\d+){0,2}", tag), f"{ref}: say which release it is (# vX.Y.Z)"
    # one action, one pin: the same action never runs at two versions
    pins: dict[str, set[str]] = {}
    for ref in uses:
        action, sha = ref.split("@")
        pins.setdefault(action, set()).add(sha)
    assert {action: len(shas) for action, shas in pins.items() if len(shas) > 1} == {}


def test_the_push_job_pushes_exactly_the_build_jobs_commit(workflow):
    """The build job hands its commit over as a patch; the push job applies it and pushes, and
    does nothing when there is no new post."""
    build_steps = " ".join(step.get("run", "") for step in workflow["jobs"]["build"]["steps"])
    push_steps = " ".join(step.get("run", "") for step in workflow["jobs"]["push"]["steps"])
    assert "make daily DAILY_COMMIT=1" in build_steps and "git push" not in build_steps
    assert 'git format-patch --binary --stdout "$GITHUB_SHA"..HEAD' in build_steps
    assert "git am" in push_steps and "git push" in push_steps and '[ ! -s "$patch" ]' in push_steps
    assert workflow["jobs"]["push"]["needs"] == "build"
    assert set(workflow["jobs"]["deploy"]["needs"]) == {"build", "push"}
