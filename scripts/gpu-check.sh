#!/usr/bin/env bash
# The GPU paths of every family (tests/gpu, `pytest -m gpu`) on a machine with a CUDA GPU and no network:
# a venv over python3's own packages (its torch, timm), the carried wheels of gpu-wheels/ (scripts/gpu-wheels.sh:
# transformers 4.48, its tokenizers and huggingface_hub, peft < 0.7, bitsandbytes), this project without its
# dependencies, then the tests. docs/gpu-check.md says how to run it and read what it writes:
#   $OUT/gpu-summary.txt   versions, the GPU, each test's outcome and every skip's reason
#   $OUT/gpu-junit.xml     pytest's JUnit report
#   $OUT/gpu-check.log     everything printed
# Usage: scripts/gpu-check.sh [extra pytest arguments]   (OUT defaults to ./gpu-check-out; PYTHON to python3)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
OUT=${OUT:-$root/gpu-check-out}
PYTHON=${PYTHON:-python3}
venv=${GPU_CHECK_VENV:-/tmp/videochat-gpu-venv}
wheels=${GPU_WHEELS:-$root/gpu-wheels}
mkdir -p "$OUT"
started=$SECONDS
step() { echo "== $* ($((SECONDS - started)) s)"; }
fail() { echo "gpu-check: $*" | tee "$OUT/gpu-summary.txt"; exit 2; }

check() {
step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi: none"
ls "$wheels"/*.whl >/dev/null 2>&1 || fail "no wheels in $wheels: run scripts/gpu-wheels.sh where there is network, and carry gpu-wheels"

step "venv $venv over $PYTHON's packages"
rm -rf "$venv"
"$PYTHON" -m venv --without-pip --system-site-packages "$venv" || fail "$PYTHON -m venv failed"
# python3 may itself be a venv (the GPU machine's is /opt/torch/.venv): --system-site-packages then reaches
# the bare interpreter's packages, not that venv's torch, so its site folders follow the new venv's own.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$PYTHON" -c 'import site; print("import site; " + "; ".join(f"site.addsitedir({p!r})" for p in site.getsitepackages()))' >"$site/_outer_site.pth"
py=$venv/bin/python

step "wheels from $wheels"
# Exactly these, into the venv (they shadow the outer versions; nothing outside the venv changes).
"$py" -m pip install -q --no-index --no-deps --ignore-installed --no-cache-dir --no-compile "$wheels"/*.whl || fail "the wheels did not install"
# Built from a copy: setuptools writes build/ and *.egg-info into the folder it builds.
copy=$(mktemp -d)
tar -C "$root" --exclude=./gpu-wheels --exclude=./.git --exclude=./gpu-check-out -cf - . | tar -C "$copy" -xf -
"$py" -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir "$copy" || fail "the project did not install"
rm -rf "$copy"

step "imports"
# Every test imports these; a package missing on the machine would otherwise show as 62 errors, or
# as 62 skips where there is no GPU (the Python 3.12 rehearsal, docs/gpu-check.md, met requests so).
imported=$("$py" -c 'import transformers, tokenizers, huggingface_hub, peft, tests.gpu.checkpoints' 2>&1)
imports=$?
[ -n "$imported" ] && printf '%s\n' "$imported"
[ $imports = 0 ] || fail "the carried packages do not import beside the machine's: $(printf '%s\n' "$imported" | tail -n 1)"

step "tests"
# -W default: warnings are shown, not errors (pyproject's "error" is for CI's versions; torch here is another).
# The root conftest sets torch.set_num_threads(1), as in CI.
timeout 270 "$py" -m pytest tests/gpu -m gpu -q -rs -p no:cacheprovider -W default --timeout=120 \
    --junitxml="$OUT/gpu-junit.xml" "$@"
status=$?
[ $status = 124 ] && echo "gpu-check: pytest ran past 270 s and was stopped"

step "summary"
"$py" - "$OUT/gpu-junit.xml" "$status" >"$OUT/gpu-summary.txt" <<'EOF'
"""Versions, the GPU, and each test's outcome (with the reason of every skip and failure) from the JUnit report."""
import importlib
import sys
import xml.etree.ElementTree as ElementTree

import torch

import videochat

print(f"pytest exit status {sys.argv[2]}; videochat from {videochat.__file__}; python {sys.version.split()[0]}; torch {torch.__version__} (CUDA {torch.version.cuda})")
if torch.cuda.is_available():
    print(f"GPU: {torch.cuda.get_device_name(0)}, {torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB")
for name in ("transformers", "tokenizers", "huggingface_hub", "peft", "accelerate", "timm", "torchvision", "bitsandbytes", "flash_attn", "av"):
    try:
        module = importlib.import_module(name)
        print(f"  {name} {getattr(module, '__version__', '?')}")
    except Exception as error:  # an installed package can fail on import too: that is what the tests meet
        print(f"  {name} does not import: {type(error).__name__}: {str(error)[:200]}")
try:
    cases = ElementTree.parse(sys.argv[1]).getroot().iter("testcase")
except (OSError, ElementTree.ParseError) as error:
    print(f"no JUnit report ({error}): pytest ended before writing it; gpu-check.log holds what it printed")
    sys.exit(1)
counts = {}
for case in cases:
    outcome, reason = "passed", ""
    for kind in ("failure", "error", "skipped"):
        found = case.find(kind)
        if found is not None:
            message = found.get("message") or ""
            outcome, reason = kind, message.splitlines()[0][:300] if message else ""
            break
    counts[outcome] = counts.get(outcome, 0) + 1
    print(f"{outcome:8} {case.get('name')}  {reason}")
print(", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())))
EOF
cat "$OUT/gpu-summary.txt"
step "done"
return $status
}

check "$@" 2>&1 | tee "$OUT/gpu-check.log"
exit "${PIPESTATUS[0]}"
