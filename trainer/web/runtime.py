"""The browser runtime: onnxruntime-web's WebAssembly build, from the npm registry, pinned.

``runtime_files()`` returns the three files the page needs (the module, its loader and the .wasm
binary), fetched once with ``npm pack`` into the project's cache and checked against the sha256
sums below. The page loads them from the site itself: no CDN, no request outside the site.
"""
from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from common.errors import TrainerError
from common.fileio import atomic_write_bytes, sha256_file

PACKAGE = "onnxruntime-web"
VERSION = "1.30.0"
FILES = {  # dist/ file -> sha256 (of onnxruntime-web 1.30.0 as published on npm)
    "ort.wasm.min.mjs": "219e6a1fc8a9938268d18efca3c91d310bd2f4a59bbd13744df5b2b7fc6cee3b",
    "ort-wasm-simd-threaded.mjs": "e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b",
    "ort-wasm-simd-threaded.wasm": "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2",
}


def runtime_dir() -> Path:
    from trainer.model_loading import cache_dir

    return cache_dir() / f"{PACKAGE}-{VERSION}"


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() and sha256_file(folder / name) == digest for name, digest in FILES.items())


def _npm_pack(into: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise TrainerError(f"cannot fetch {PACKAGE}@{VERSION}: npm is not installed (install Node.js, "
                           f"e.g. `apt-get install npm`), or put its dist files {', '.join(FILES)} in {runtime_dir()}")
    done = subprocess.run([npm, "pack", "--loglevel=error", f"{PACKAGE}@{VERSION}"], cwd=into,
                          capture_output=True, text=True)
    tarballs = sorted(into.glob(f"{PACKAGE}-*.tgz"))
    if done.returncode != 0 or not tarballs:
        reason = (done.stderr.strip().splitlines() or ["no tarball"])[-1]
        raise TrainerError(f"cannot fetch {PACKAGE}@{VERSION} from the npm registry: {reason} "
                           "(check the network or your npm registry settings)")
    return tarballs[0]


def runtime_files() -> dict[str, Path]:
    """The runtime's files (name -> path in the cache), fetched when missing."""
    folder = runtime_dir()
    if not _complete(folder):
        with tempfile.TemporaryDirectory() as tmp:
            tarball = _npm_pack(Path(tmp))
            with tarfile.open(tarball) as archive:
                for name in FILES:
                    member = archive.extractfile(f"package/dist/{name}")
                    if member is None:
                        raise TrainerError(f"{tarball.name} has no dist/{name}")
                    atomic_write_bytes(folder / name, member.read(), durable=False)
        if not _complete(folder):
            raise TrainerError(f"{PACKAGE}@{VERSION} from the npm registry does not match its pinned "
                               f"sha256 sums (files in {folder}): not using it")
    return {name: folder / name for name in FILES}


def licence_note() -> str:
    return f"{PACKAGE} {VERSION} (MIT licence, (c) Microsoft Corporation), from the npm registry\n"


def copy_runtime(into: Path) -> list[Path]:
    """Copy the runtime's files into ``into`` (a folder being built)."""
    into.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, path in runtime_files().items():
        shutil.copyfile(path, into / name)
        copied.append(into / name)
    (into / "NOTICE.txt").write_text(licence_note(), encoding="utf-8")
    return copied + [into / "NOTICE.txt"]

