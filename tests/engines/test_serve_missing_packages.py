"""A model process whose timm is missing answers with `missing_packages`, and the client raises the typed error with the fix."""

from __future__ import annotations

import os
import sys
import time

from tests.support.serve_process import ServeProcess
from tests.support.standins import build_internvl2, isolate_hf_caches, without_timm
from videochat import errors
from videochat.engines.errors import error_from
from videochat.models.torch_pairs import NEEDS, fix_command, installed_torch


def test_a_model_process_without_timm_answers_missing_packages_and_the_client_gets_the_fix(tmp_path):
    with isolate_hf_caches(tmp_path / "hf-home"):
        folder = build_internvl2(tmp_path / "models" / "InternVL2-tiny")
        server = ServeProcess("--model", str(folder), "--trust-remote-code", env={**without_timm(dict(os.environ)), "XDG_DATA_HOME": str(tmp_path)})
        try:
            server.wait_listening()
            deadline = time.monotonic() + 120
            while (health := server.get("/health")[1])["loading"] is not None and "error" not in health and time.monotonic() < deadline:
                time.sleep(0.2)
            assert health["model"] is None and health["error"]["code"] == "missing_packages"
            status, body = server.post({"model": "x", "messages": [{"role": "user", "content": "hi"}]})
        finally:
            server.close()
    assert (status, body["error"]["code"]) == (500, "missing_packages")
    error = error_from(body["error"]["code"], body["error"]["message"], status)
    assert isinstance(error, errors.MissingPackages) and NEEDS in str(error)
    assert str(error).endswith(fix_command(sys.executable, installed_torch()))
