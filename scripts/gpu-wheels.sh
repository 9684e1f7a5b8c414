#!/usr/bin/env bash
# Download the wheels that scripts/gpu-check.sh installs on the GPU machine (which has no network)
# into gpu-wheels/ (ignored; carried by the device call in docs/gpu-check.md). Needs network here.
#   scripts/gpu-wheels.sh                     cp312 wheels into gpu-wheels/
#   scripts/gpu-wheels.sh 3.11 /tmp/wheels    for another Python, into another folder (a dry run here)
# The versions are pyproject.toml's pins, at what the CPU suite runs with. bitsandbytes's wheel holds
# a library per CUDA release (43 MB); only the CUDA 13 ones are kept (the GPU machine's torch is cu130).
# requests (with urllib3 and charset-normalizer; certifi and idna come with httpx there) is what
# transformers 4.48 and huggingface_hub 0.36 download with: the machine's huggingface_hub 1.x uses httpx,
# so nothing there keeps requests (tests/gpu/test_gpu_wheels.py checks what the wheels need is covered).
set -euo pipefail
cd "$(dirname "$0")/.."
python_version=${1:-3.12}
folder=${2:-gpu-wheels}
rm -rf "$folder"
mkdir -p "$folder"
python3 -m pip download -q --only-binary=:all: --no-deps --python-version "$python_version" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$folder" \
    transformers==4.48.3 tokenizers==0.21.4 huggingface_hub==0.36.2 peft==0.6.2 \
    platformdirs==4.14.9 easydict==1.14 setuptools==84.2.1 bitsandbytes==0.50.2 \
    requests==2.34.2 urllib3==2.8.0 charset-normalizer==3.5.3
python3 - "$folder"/bitsandbytes-*.whl <<'EOF'
"""Rewrite the bitsandbytes wheel without the libraries of other CUDA releases, ROCm and XPU (and their RECORD lines)."""
import re
import sys
import zipfile
from pathlib import Path

wheel = Path(sys.argv[1])
keep = re.compile(r"libbitsandbytes_(cpu|cuda13\d)\.so$")
slim = wheel.with_suffix(".slim")
with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED) as target:
    dropped = {name for name in source.namelist() if "/libbitsandbytes_" in name and not keep.search(name)}
    for item in source.infolist():
        if item.filename in dropped:
            continue
        data = source.read(item)
        if item.filename.endswith(".dist-info/RECORD"):
            lines = data.decode().splitlines(keepends=True)
            data = "".join(line for line in lines if line.split(",", 1)[0] not in dropped).encode()
        target.writestr(item, data)
slim.replace(wheel)
print(f"bitsandbytes: left out {len(dropped)} libraries")
EOF
ls -l "$folder"
echo "$(du -sm "$folder" | cut -f1) MiB in $folder"
