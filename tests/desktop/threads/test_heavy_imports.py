"""desktop/heavy_imports.py: torch's libraries load without stopping the other threads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.support import REPO_ROOT

# A stand-in for libtorch: its static initializer, run by the dynamic loader with its lock held,
# says it started and then waits (up to 5 s) for the test to let it finish.
SLOW_INITIALIZER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void register_operators(void) {
    const char *folder = getenv("SLOW_LIBRARY_FOLDER");
    char started[4096], finish[4096];
    snprintf(started, sizeof started, "%s/started", folder);
    snprintf(finish, sizeof finish, "%s/finish", folder);
    FILE *file = fopen(started, "w");
    if (file) fclose(file);
    for (int i = 0; i < 500 && access(finish, F_OK) != 0; i++) usleep(10000);
}
"""

IMPORT_DURING_THE_LOAD = textwrap.dedent(
    """
    import os, sys, threading, time
    from pathlib import Path
    from desktop.threads.heavy_imports import preload_torch_libraries

    folder = Path(os.environ["SLOW_LIBRARY_FOLDER"])
    loaded = []
    loader = threading.Thread(target=lambda: loaded.append(preload_torch_libraries()))
    loader.start()
    while not (folder / "started").exists():
        assert loader.is_alive(), "the slow library did not load"
        time.sleep(0.01)
    assert "_lzma" not in sys.modules
    importer = threading.Thread(target=lambda: __import__("_lzma"))  # an extension module: a dlopen
    importer.start()
    asleep = time.perf_counter()
    time.sleep(0.2)  # returns once this thread has the GIL again
    print(f"waited for the GIL {time.perf_counter() - asleep - 0.2:.2f} s", flush=True)
    (folder / "finish").touch()
    loader.join()
    importer.join()
    assert loaded == [True] and "_lzma" in sys.modules
    """
)


def test_an_extension_imported_while_torch_s_libraries_load_waits_without_the_gil(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or os.name != "posix":
        pytest.skip("needs a C compiler to build a library that loads slowly")
    fake_torch = tmp_path / "site" / "torch"
    (fake_torch / "lib").mkdir(parents=True)
    (fake_torch / "__init__.py").write_text("")
    source = tmp_path / "slow.c"
    source.write_text(SLOW_INITIALIZER)
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(fake_torch / "lib" / "libtorch_python.so"), str(source)], check=True)

    root = REPO_ROOT
    env = {**os.environ, "SLOW_LIBRARY_FOLDER": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(root)])}
    result = subprocess.run([sys.executable, "-c", IMPORT_DURING_THE_LOAD], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    # Held by an importer waiting for the loader's lock, the GIL would come back only when the
    # initializer gives up, after 5 s; waiting for the import lock instead, the importer lets it go.
    waited = float(result.stdout.split("waited for the GIL ")[1].split(" s")[0])
    assert waited < 2.5
