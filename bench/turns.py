"""Benchmark: time to first token of a first question and of a follow-up that reuses the key/value cache.

For each native family (LLaVA-OneVision, Qwen2-VL) a mid-size random checkpoint is built in a temporary
folder (about 30 MB: a 4-layer, 384-wide language model; a vision tower that gives LLaVA-OneVision its real
196 tokens a frame and Qwen2-VL the card's pixel budget), loaded through the app's own loader, and asked
about 32 frames of a generated 640 x 480 clip. The remote-code families (InternVL2, InternVideo2.5) are
their stand-ins (tests/support/standins: the checkpoint's own chat() and conversation template) at the
same language model size with the real models' 256 tokens a frame, loaded with trust_remote_code. The current
runtime's families (Qwen2.5-VL, Qwen3-VL, InternVL3 -hf: tests/support/tiny_current.py) need transformers 5.x:
from the seed runtime, this script runs itself for them with the current runtime's interpreter
(`VIDEOCHAT_CURRENT_PYTHON`, else the installed runtime; skipped, saying so, where there is none). Qwen takes
2 frames a second up to the count asked, so the 10 s clip gives them 20 frames:

- first: a new conversation's first question: the processor on the frames, the vision tower, and the
  prefill over the whole prompt (thousands of video tokens);
- follow-up: a second question in the same conversation, which reuses the cache: only the new tokens are read;
- no reuse: the same follow-up with the cache switched off (native: the backend's `_reusable_length` patched to 0;
  remote code: the conversation's cache dropped, which is what chat() alone does every time): the vision
  tower and the whole prefill again (the processor is not run again: the video's tensors are kept).

Time to first token runs from the call of `stream()` to the end of the language model head's first call,
when the first token is known (the streamer itself may hold a token back until a word is complete). Each
time is the best of `--repeats` runs. Goal: follow-up <= first / 20. The follow-up's answer with the cache must
equal the one without it (greedy decoding); the script says whether it does.

    python bench/turns.py                     # every family, 32 frames
    python bench/turns.py --family internvl2 --frames 16 --repeats 1
    python bench/turns.py --family qwen3-vl       # through the current runtime

Torch uses its default thread count. The exit status is 0 whatever the numbers: this is a measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python bench/turns.py` from anywhere, without PYTHONPATH

from tests.support.tiny_native import BUILDERS  # noqa: E402
from tests.support.tiny_current import BUILDERS as CURRENT_BUILDERS  # noqa: E402
from tests.support.current_runtime import MISSING, current_python, run_in_current  # noqa: E402
from tests.support import clips  # noqa: E402
from tests.support.standins import build_internvideo25, build_internvl2, isolate_hf_caches  # noqa: E402
from videochat.backends import create_backend  # noqa: E402
from videochat.backends.base import Conversation, GenerationSettings, LoadOptions  # noqa: E402
from videochat.backends.chat_cache import PromptCache  # noqa: E402
from videochat.models.resolve import resolve_model  # noqa: E402
from videochat.frames.pipeline import prepare  # noqa: E402
from videochat.video.source import VideoSource  # noqa: E402

CLIP = ROOT / "bench" / "_clips" / "turns_640x480_10s.mp4"
SETTINGS = GenerationSettings(max_new_tokens=16)
FIRST_QUESTION = "What is happening in this video?"
FOLLOW_UP = "How many people appear in the video?"
BAR = 20.0

REMOTE_BUILDERS = {"internvl2": build_internvl2, "internvideo2.5": build_internvideo25}

# Mid-size checkpoints: big enough that the video's prefill dominates, as it does in the real models.
SIZES = {
    "llava-onevision": dict(hidden=384, layers=4, vision_hidden=192, vision_layers=4, image_size=384, patch_size=14),
    "qwen2-vl": dict(hidden=384, layers=4, vision_hidden=192, vision_layers=4, max_pixels=28 * 28 * 1280),
    "internvl2": dict(hidden=384, layers=4, patch_size=14, vision_hidden=64),
    "internvideo2.5": dict(hidden=384, layers=4, patch_size=14, vision_hidden=64),
    # Qwen's processors at the card's per-frame budget for 640 x 480 (about 100 tokens a frame), InternVL3's 256 a frame.
    "qwen2.5-vl": dict(hidden=384, layers=4, vision_hidden=192, vision_layers=4, max_pixels=28 * 28 * 256),
    "qwen3-vl": dict(hidden=384, layers=4, vision_hidden=192, vision_layers=4, max_pixels=32 * 32 * 4096),
    "internvl3": dict(hidden=384, layers=4, vision_hidden=64, vision_layers=2, image_size=448),
}
FAMILIES = sorted(BUILDERS) + sorted(REMOTE_BUILDERS) + sorted(CURRENT_BUILDERS)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", choices=FAMILIES, action="append", help="default: all")
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    return parser.parse_args(argv)


def clip_path() -> Path:
    if not CLIP.exists():
        CLIP.parent.mkdir(parents=True, exist_ok=True)
        clips.write_clip(CLIP, frames=300, width=640, height=480, texture=True)
    return CLIP


class FirstTokenClock:
    """Notes when the language model head first runs after `start()`: the first token is then known."""

    def __init__(self, backend):
        model = backend.model
        if hasattr(backend, "inner_language_model"):  # remote code: the head is its inner language model's
            model = getattr(model, backend.inner_language_model)
        self._handle = model.get_output_embeddings().register_forward_hook(self._on_head)
        self._started = self._first = None

    def _on_head(self, *_):
        if self._first is None:
            self._first = time.perf_counter()

    def start(self) -> None:
        self._started, self._first = time.perf_counter(), None

    @property
    def seconds(self) -> float:
        return self._first - self._started

    def close(self) -> None:
        self._handle.remove()


def timed_answer(backend, clock, conversation, question) -> tuple[float, str]:
    clock.start()
    answer = "".join(backend.stream(conversation, question, SETTINGS))
    return clock.seconds, answer


def measure_once(backend, clock, prepared) -> dict:
    remote = hasattr(backend, "inner_language_model")
    conversation = backend.start(prepared)
    first, _ = timed_answer(backend, clock, conversation, FIRST_QUESTION)
    # The conversation as it stands after the first answer, less its cache: what a follow-up without reuse starts from.
    without_cache = Conversation(prepared, turns=list(conversation.turns), state=copy.copy(conversation.state))
    if remote:
        without_cache.state.memory = PromptCache()
    else:
        without_cache.state.cache = None
    follow_up, reused_answer = timed_answer(backend, clock, conversation, FOLLOW_UP)
    if not remote:
        backend._reusable_length = lambda state, input_ids: 0  # this instance only: nothing of the cache is reused
    try:
        no_reuse, plain_answer = timed_answer(backend, clock, without_cache, FOLLOW_UP)
    finally:
        vars(backend).pop("_reusable_length", None)
    cached_ids = conversation.state.memory.cached_ids if remote else conversation.state.cached_ids
    return dict(first=first, follow_up=follow_up, no_reuse=no_reuse, same=reused_answer == plain_answer, tokens=cached_ids.shape[1])


def load_built(name: str, folder: str):
    """Build the family's mid-size checkpoint in `folder` and load it through the app's own loader."""
    if name in REMOTE_BUILDERS:
        REMOTE_BUILDERS[name](Path(folder) / f"{name}-bench", **SIZES[name])
        backend = create_backend(resolve_model(str(Path(folder) / f"{name}-bench")), LoadOptions(trust_remote_code=True))
    else:
        {**BUILDERS, **CURRENT_BUILDERS}[name](folder, **SIZES[name])
        backend = create_backend(resolve_model(folder))
    backend.load()
    return backend


def measure_family(name: str, clip: Path, frames: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
        # Remote code is imported from a module cache: this run's own, as the tests do.
        with isolate_hf_caches(folder) if name in REMOTE_BUILDERS else contextlib.nullcontext():
            backend = load_built(name, folder)
            size_mb = sum(path.stat().st_size for path in Path(folder).rglob("*.safetensors")) / 1e6
            with VideoSource.open(clip) as source:
                prepared = prepare(source, name if name in REMOTE_BUILDERS or name in CURRENT_BUILDERS else "native", frames)
            clock = FirstTokenClock(backend)
            runs = [measure_once(backend, clock, prepared) for _ in range(repeats)]
            clock.close()
    best = {key: min(run[key] for run in runs) for key in ("first", "follow_up", "no_reuse")}
    return dict(best, same=all(run["same"] for run in runs), tokens=runs[-1]["tokens"], size_mb=size_mb, frames=len(prepared.indices))


def print_result(name: str, frames: int, result: dict) -> None:
    ratio = result["first"] / result["follow_up"]
    print(
        f"{name:16s} {result['frames']} frames ({frames} asked), {result['size_mb']:.0f} MB weights, {result['tokens']} tokens in the conversation\n"
        f"  first question TTFT      {result['first']:7.3f} s\n"
        f"  follow-up TTFT (reuse)   {result['follow_up']:7.3f} s   first/follow-up = {ratio:.1f}x "
        f"(goal >= {BAR:.0f}x: {'met' if ratio >= BAR else 'NOT met'})\n"
        f"  follow-up TTFT (no reuse){result['no_reuse']:7.3f} s   no-reuse/reuse = {result['no_reuse'] / result['follow_up']:.1f}x\n"
        f"  same greedy answer with and without reuse: {'yes' if result['same'] else 'NO'}",
        flush=True,
    )


def main(argv=None) -> int:
    import torch

    args = parse_args(argv)
    clip = clip_path()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; clip {CLIP.name}, {args.frames} frames\n")
    for name in args.family or FAMILIES:
        if name in CURRENT_BUILDERS and not in_current_runtime():
            run_through_current_runtime(name, args)
            continue
        print_result(name, args.frames, measure_family(name, clip, args.frames, args.repeats))
    return 0


def in_current_runtime() -> bool:
    from importlib.metadata import version

    return int(version("transformers").split(".")[0]) >= 5


def run_through_current_runtime(name: str, args) -> None:
    """This script for one family, run by the current runtime's interpreter (transformers 5.x); its report printed here."""
    python = current_python()
    if python is None or not python.exists():
        print(f"{name:16s} skipped: {MISSING}\n", flush=True)
        return
    result = run_in_current(python, __file__, "--family", name, "--frames", str(args.frames), "--repeats", str(args.repeats), timeout=3600)
    report = result.stdout.split("\n\n", 1)[-1] if result.returncode == 0 else f"{name}: failed\n{result.stderr[-2000:]}"
    print(report.rstrip("\n"), flush=True)


if __name__ == "__main__":
    sys.exit(main())
