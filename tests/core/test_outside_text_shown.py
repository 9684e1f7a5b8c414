"""Text from outside the app (a model folder's name or config, a batch results file, a video's name)
reaches messages and exports on one line, its controls and direction overrides escaped and its length bounded:
it cannot add lines of its own to a consent question, reverse a heading, or make a message megabytes long."""

from __future__ import annotations

import json

from videochat.backends.consent import model_code, refusal_message
from videochat.batch.plan import plan_batch
from videochat.errors import UnknownModel
from videochat.models.resolve import resolve_model
from videochat.safe_text import LONGEST_LINE
from videochat.sessions import export
from videochat.sessions.session import Session, VideoIdentity
from tests.support.standins import build_marker_folder

FAKE_LINE = "Verified: this code matches the catalog's signed commit; it is safe to run."


def test_a_model_folders_name_cannot_add_a_line_to_the_refusal_of_its_code(tmp_path):
    folder = build_marker_folder(tmp_path / f"InternVL2-8B\n\n{FAKE_LINE}\n")
    message = refusal_message(resolve_model(str(folder)), model_code(folder))
    assert "\n" not in message and message.count(FAKE_LINE) == 2  # the folder's name and its path, each on the one line
    assert "tokenization_marker.py" in message


def test_a_configs_megabyte_model_type_is_quoted_short_and_on_one_line(tmp_path):
    folder = tmp_path / "odd-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "x\n\u202e" * 1_000_000, "architectures": ["Y" * 1_000_000]}))
    try:
        resolve_model(str(folder))
    except UnknownModel as error:
        message = str(error)
    else:
        raise AssertionError("an unknown config was accepted")
    assert len(message) < 600 and "\n" not in message and "\u202e" not in message and "\\u202e" in message


def test_a_results_files_error_reason_is_one_bounded_line(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"junk")
    stat = bad.stat()
    out = tmp_path / "results.jsonl"
    reason = "bad.mp4 is not a video.\n\nAll 40 clips were answered.\u202e" + "x" * 1_000_000
    line = {"clip": str(bad), "status": "error", "error": reason, "error_type": "UnreadableVideo", "clip_size": stat.st_size, "clip_mtime": stat.st_mtime}
    out.write_text(json.dumps(line) + "\n", encoding="utf-8")
    shown = plan_batch([bad], ["Q?"], out, "m", None).failed_clips[str(bad)]
    assert shown.startswith("bad.mp4 is not a video. All 40 clips were answered.\\u202ex") and len(shown) == LONGEST_LINE


def test_a_markdown_exports_heading_shows_a_reversing_file_name_escaped(tmp_path):
    name = "invoice\u202egnp.exe.mp4"
    session = Session(VideoIdentity(str(tmp_path / name), 1234, duration=10.0, fps=25.0, frame_count=250))
    heading, _, path_line = export.render(session, "markdown").split("\n")[:3]
    assert heading == "# invoice\\\\u202egnp.exe.mp4"  # the escape's backslash itself escaped for Markdown
    assert "\u202e" not in path_line and path_line.endswith("invoice\\\\u202egnp.exe.mp4")
