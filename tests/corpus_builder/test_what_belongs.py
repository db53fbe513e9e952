"""Issue 14, item 6: the corpus builder only reads what belongs to the blog.

Each case was reproduced against the real builder: a FIFO named ``*.md`` hung it, a post linked to
/dev/zero ran it out of memory, a link out of the content folder put a private key in the corpus,
reStructuredText directives pulled in local files, and one pathological Markdown post stalled the
whole build.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from corpus_helpers import md_post

REPO = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, sockets and /dev are POSIX")


def excluded(result) -> dict:
    return {e["path"]: (e["reason"], e["detail"]) for e in result.manifest["excluded"]}


def kept_post(site):
    site.post("kept.md", md_post("Kept", "An ordinary post."))


# --------------------------------------------------------------------------- only regular files
@posix_only
def test_a_fifo_named_like_a_post_is_excluded_never_opened(site):
    fifo = site.content / "pipe.md"
    os.mkfifo(fifo)
    kept_post(site)

    def unblock():  # were the builder to open the FIFO, it would wait forever for a writer
        time.sleep(5)
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO: nobody is reading it
        except OSError:
            pass

    threading.Thread(target=unblock, daemon=True).start()
    result = site.build()
    assert site.documents() == ["Kept\n\nAn ordinary post."]
    reason, detail = excluded(result)["content/pipe.md"]
    assert reason == "not-a-file" and "FIFO" in detail


@posix_only
def test_a_socket_named_like_a_post_is_excluded(site):
    server = socket.socket(socket.AF_UNIX)
    server.bind("content/sock.md")  # relative: a socket path must stay short
    try:
        kept_post(site)
        result = site.build()
    finally:
        server.close()
    reason, detail = excluded(result)["content/sock.md"]
    assert reason == "not-a-file" and "socket" in detail


@posix_only
def test_a_post_linked_to_dev_zero_is_excluded_without_running_out_of_memory(site):
    # Before: MemoryError and a traceback (here under a 2 GiB limit, not to take the machine).
    os.symlink("/dev/zero", site.content / "zero.md")
    kept_post(site)
    done = run_cli(site, "content", "-o", "out/corpus.txt", "-v")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "content/zero.md: outside-content" in done.stderr
    assert site.documents() == ["Kept\n\nAn ordinary post."]


@posix_only
def test_a_followed_link_to_a_device_is_still_not_read(site):
    os.symlink("/dev/zero", site.content / "zero.md")
    kept_post(site)
    result = site.build(follow_symlinks=True)
    reason, detail = excluded(result)["content/zero.md"]
    assert reason == "not-a-file" and "character device" in detail


# --------------------------------------------------------------------------- the size limit
BIG = md_post("Big", "word " * 1000)  # 5,035 bytes


def test_a_post_over_the_size_limit_is_excluded_with_its_size_and_the_option(site):
    site.post("big.md", BIG)
    kept_post(site)
    result = site.build(max_file_size=0.002)  # 2,000 bytes
    assert site.documents() == ["Kept\n\nAn ordinary post."]
    reason, detail = excluded(result)["content/big.md"]
    assert reason == "too-large"
    assert "5,035 bytes" in detail and "2,000 bytes" in detail and "--max-file-size" in detail


def test_the_size_limit_also_holds_for_txt_csv_and_jsonl_files(site):
    notes, big = site.root / "notes", "word " * 1000
    notes.mkdir()
    (notes / "small.txt").write_text("A small note.", encoding="utf-8")
    (notes / "big.txt").write_text(big, encoding="utf-8")
    (site.root / "big.jsonl").write_text('{"text": "%s"}\n' % big, encoding="utf-8")
    result = site.build(content_dirs=[], txt_dirs=[str(notes)], jsonl_files=["big.jsonl"],
                        max_file_size=0.002)
    assert site.documents() == ["A small note."]
    reasons = {path: reason for path, (reason, _) in excluded(result).items()}
    assert reasons == {"notes/big.txt": "too-large", "big.jsonl": "too-large"}


def test_the_default_limit_is_20_mb_and_the_cli_changes_it(site):
    from corpus_builder.files import FileLimits

    assert FileLimits().max_bytes == 20_000_000
    site.post("big.md", BIG)
    kept_post(site)
    done = run_cli(site, "content", "-o", "out/corpus.txt", "--max-file-size", "0.002")
    assert done.returncode == 0, done.stderr
    assert "content/big.md: too-large (5,035 bytes" in done.stderr
    assert len(site.documents()) == 1


def test_a_file_that_grows_while_being_read_is_cut_off_at_the_limit(tmp_path, monkeypatch):
    from corpus_builder import files
    from corpus_builder.files import FileLimits, Refused, read_file

    path = tmp_path / "growing.md"
    path.write_bytes(b"x" * 100)
    real_stat = files.os.stat

    def stat_then_grow(*args, **kwargs):  # the size is checked, then the file grows
        answer = real_stat(*args, **kwargs)
        with open(path, "ab") as handle:
            handle.write(b"y" * 10_000)
        return answer

    monkeypatch.setattr(files.os, "stat", stat_then_grow)
    with pytest.raises(Refused) as refused:
        read_file(path, FileLimits(max_bytes=1000), root=tmp_path)
    assert refused.value.reason == "too-large" and "grew" in refused.value.detail


# --------------------------------------------------------------------------- symbolic links
@pytest.fixture
def private(site) -> Path:
    """A folder beside the content folder (not part of the blog) with a secret and a post."""
    folder = site.root / "private"
    folder.mkdir()
    (folder / "id_rsa.md").write_text("-----BEGIN OPENSSH PRIVATE KEY----- SECRETKEY\n", encoding="utf-8")
    (folder / "elsewhere.md").write_text(md_post("Elsewhere", "Not a post of this blog."), encoding="utf-8")
    return folder


def test_links_that_leave_the_content_folder_are_excluded(site, private):
    os.symlink(private / "id_rsa.md", site.content / "key.md")
    os.symlink(os.path.join("..", "private"), site.content / "linked-folder")
    kept_post(site)
    result = site.build()
    assert site.documents() == ["Kept\n\nAn ordinary post."]
    assert "SECRETKEY" not in site.corpus()
    found = excluded(result)
    assert set(found) == {"content/key.md", "content/linked-folder"}
    for reason, detail in found.values():
        assert reason == "outside-content" and str(private) in detail and "--follow-symlinks" in detail


def test_follow_symlinks_reads_them(site, private):
    os.symlink(os.path.join("..", "private"), site.content / "linked-folder")
    kept_post(site)
    site.build(follow_symlinks=True)
    assert "Elsewhere\n\nNot a post of this blog." in site.documents()


def test_links_inside_the_content_folder_keep_working(site):
    site.post("pages/about.md", md_post("About", "Pages are not posts, but a link to one is read."))
    os.symlink(os.path.join("pages", "about.md"), site.content / "about-link.md")
    site.post("drafts-2021/a.md", md_post("Archived", "From a folder linked below."))
    os.symlink("drafts-2021", site.content / "archive")
    os.symlink("content", site.root / "blog-link")  # the content folder itself, through a link
    result = site.build(content_dirs=["blog-link"])
    assert result.manifest["excluded"] == []
    assert sorted(site.documents()) == ["About\n\nPages are not posts, but a link to one is read.",
                                        "Archived\n\nFrom a folder linked below."]


# --------------------------------------------------------------------------- reStructuredText
def test_rst_directives_never_insert_local_files(site):
    secret = site.root / "secret.txt"
    secret.write_text("SECRETTEXT\n", encoding="utf-8")
    (site.root / "secret.csv").write_text("SECRETCSV,x\n", encoding="utf-8")
    (site.root / "secret.html").write_text("<p>SECRETHTML</p>\n", encoding="utf-8")
    site.post("inserts.rst", f"""
        Inserts
        #######

        :date: 2021-01-01

        Before.

        .. include:: {secret}

        .. include:: {secret}
           :literal:

        .. raw:: html
           :file: {site.root / "secret.html"}

        .. raw:: html
           :url: {(site.root / "secret.html").as_uri()}

        .. csv-table:: Table
           :file: {site.root / "secret.csv"}

        .. csv-table:: Table
           :url: {(site.root / "secret.csv").as_uri()}

        After.
        """)
    result = site.build()
    assert result.manifest["excluded"] == []
    assert site.documents() == ["Inserts\n\nBefore.\n\nAfter."]


# --------------------------------------------------------------------------- the time limit
def slow_post(brackets: int = 10_000) -> str:
    # Python-Markdown is quadratic on a run of '[': 10,000 take some 15 s, 20,000 took 160 s.
    return md_post("Slow", "[" * brackets)


def test_a_post_that_takes_too_long_is_stopped_and_the_others_are_read(site):
    site.post("a.md", md_post("Alpha", "First."))
    site.post("b-slow.md", slow_post())
    site.post("c.md", md_post("Gamma", "Third."))
    site.post("d-slow.md", slow_post())
    site.post("e.md", md_post("Epsilon", "Fifth."))  # c.md and e.md wait in the queue of a killed worker
    start = time.monotonic()
    result = site.build(file_timeout=1)
    assert time.monotonic() - start < 10
    assert site.documents() == ["Alpha\n\nFirst.", "Gamma\n\nThird.", "Epsilon\n\nFifth."]
    for name in ("content/b-slow.md", "content/d-slow.md"):
        reason, detail = excluded(result)[name]
        assert reason == "too-slow" and "1 s" in detail and "--file-timeout" in detail


def test_the_time_limit_with_several_reading_processes(site):
    for n in range(120):
        site.post(f"p{n:03d}.md", md_post(f"Post {n}", f"Text number {n}."))
    site.post("p050-slow.md", slow_post())
    result = site.build(file_timeout=1, workers=2)
    assert len(site.documents()) == 120
    assert [(e["path"], e["reason"]) for e in result.manifest["excluded"]] == [("content/p050-slow.md",
                                                                                 "too-slow")]


def test_the_time_limit_works_without_fork_as_on_windows(site, monkeypatch):
    from corpus_builder import workers

    monkeypatch.setattr(workers, "START_METHOD", "spawn")
    site.post("a.md", md_post("Alpha", "First."))
    site.post("b-slow.md", slow_post())
    site.post("c.md", md_post("Gamma", "Third."))
    result = site.build(file_timeout=1)  # a spawned worker first imports Pelican: not counted
    assert site.documents() == ["Alpha\n\nFirst.", "Gamma\n\nThird."]
    assert excluded(result)["content/b-slow.md"][0] == "too-slow"


def test_a_reading_process_that_dies_loses_only_its_file(site, monkeypatch):
    from corpus_builder import workers

    if workers.START_METHOD != "fork":
        pytest.skip("the patched reader reaches the child only through fork")
    from corpus_builder.readers import PostReader

    real_read = PostReader.read

    def read_or_die(self, path, root, display):
        if path.name == "b.md":
            os._exit(3)  # as a segfault in a C extension would
        return real_read(self, path, root, display)

    monkeypatch.setattr(PostReader, "read", read_or_die)
    for name in "abc":
        site.post(f"{name}.md", md_post(name.upper(), f"Text {name}."))
    result = site.build(file_timeout=30)  # in worker processes (the default)
    assert site.documents() == ["A\n\nText a.", "C\n\nText c."]
    reason, detail = excluded(result)["content/b.md"]
    assert reason == "unreadable" and "exit code 3" in detail


def _process_state(pid: int) -> tuple[int, str] | None:
    """``(parent pid, state)`` of a process from /proc, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_reading_processes_end_when_the_build_is_killed(site):
    for n in range(110):
        site.post(f"p{n:03d}.md", md_post(f"Post {n}", f"Text number {n}."))
    site.post("p050-slow.md", slow_post(20_000))  # keeps one worker busy for minutes
    command = [sys.executable, "-m", "corpus_builder.cli", "content", "-o", "out/corpus.txt", "-j", "2", "-q"]
    build = subprocess.Popen(command, cwd=site.root, env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        time.sleep(5)  # the other worker has read every other post by now, and waits for more
        workers = [int(p) for p in os.listdir("/proc")
                   if p.isdigit() and (_process_state(int(p)) or (0,))[0] == build.pid]
        assert len(workers) == 2
    finally:
        build.kill()
        build.wait()
    for _ in range(50):  # the idle worker sees its parent go; the busy one ends after its file
        alive = [pid for pid in workers if (_process_state(pid) or (0, "Z"))[1] != "Z"]
        if len(alive) <= 1:
            break
        time.sleep(0.1)
    for pid in alive:
        os.kill(pid, 9)
    assert len(alive) == 1


def test_no_time_limit_reads_in_this_process(site, monkeypatch):
    from corpus_builder import workers

    monkeypatch.setattr(workers, "START_METHOD", "no processes may start")
    kept_post(site)
    site.build(file_timeout=0)
    assert site.documents() == ["Kept\n\nAn ordinary post."]


# --------------------------------------------------------------------------- the command line
def run_cli(site, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def limit_memory():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([sys.executable, "-m", "corpus_builder.cli", *args], cwd=site.root, env=env,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=limit_memory if sys.platform != "win32" else None)


def test_the_new_options_are_documented_in_help(site):
    done = run_cli(site, "--help")
    for option in ("--max-file-size", "--follow-symlinks", "--file-timeout"):
        assert option in done.stdout
