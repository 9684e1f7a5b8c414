"""What the commands share: their options, the types that check each value, the checks made once
the family or the clip is known, and turning the options into what the core takes.

A value that means nothing is a usage error naming the value given, before anything is opened
or loaded (argparse prints "argument --end: ..." and exits with 2). A command that loads a model
takes `add_model_arguments`; each group of options is its own function, so that a new one (an
engine, say) is one more function called there.
"""

from __future__ import annotations

import argparse
import math
import sys

from videochat.families import get_family
from videochat.generation import DEFAULTS as GENERATION_DEFAULTS, MAX_NEW_TOKENS
from videochat.safe_text import shown
from videochat.video import READER_ORDER

READER_CHOICES = ("auto", *READER_ORDER)


# -- options ------------------------------------------------------------------------------------


def add_model_arguments(command) -> None:
    """The options of a command that loads a model and asks it (`ask`, `batch`)."""
    add_model_choice(command)
    command.add_argument("--frames", type=int, help="number of frames (default: the model's)")
    add_load_arguments(command)
    add_generation_arguments(command)
    add_reader_argument(command)


def add_model_choice(command) -> None:
    """Which model, at which revision, and the yes to running its own code (`ask`, `batch`, `serve`)."""
    command.add_argument(
        "--model", required=True, help="a catalog name (InternVL2-1B), a hub repo id (owner/name), or a model folder (./NAME or a full path)"
    )
    command.add_argument(
        "--trust-remote-code", action="store_true",
        help="run the model's own Python code where nothing vouches for it (a folder, a repo not downloaded by this app); remembered for that code",
    )
    command.add_argument("--revision", help="the model revision to load (default: the one downloaded)")


def add_load_arguments(command) -> None:
    """Where and in what precision the model is loaded."""
    command.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    command.add_argument("--precision", default="auto", help="auto, float32, bfloat16, float16, 8bit or 4bit")


def add_generation_arguments(command) -> None:
    """How each answer is generated; the defaults are `videochat.generation`'s."""
    command.add_argument("--max-new-tokens", type=token_count, default=GENERATION_DEFAULTS.max_new_tokens)
    command.add_argument("--temperature", type=temperature, default=GENERATION_DEFAULTS.temperature, help="0 answers greedily")


def add_reader_argument(command) -> None:
    command.add_argument("--reader", choices=list(READER_CHOICES), default="auto")


def add_segment_arguments(command) -> None:
    command.add_argument("--start", type=seconds, help="segment start, seconds")
    command.add_argument("--end", type=seconds, help="segment end, seconds")


# -- value types --------------------------------------------------------------------------------


def seconds(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, 0 or more, not {text!r}")
    return value


def token_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_NEW_TOKENS:
        raise argparse.ArgumentTypeError(f"must be a whole number of tokens from 1 to {MAX_NEW_TOKENS}, not {text!r}")
    return value


def temperature(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more (0 answers greedily), not {text!r}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None


def question_text(text: str) -> str:
    """A question as typed; bytes that are not UTF-8 (lone surrogates from surrogateescape) are refused,
    shown escaped: no tokenizer or JSON writer takes them, and a guess at their meaning would be asked."""
    if any(0xD800 <= ord(character) <= 0xDFFF for character in text):
        raise argparse.ArgumentTypeError(f"is not UTF-8 text ({shown_escaped(text)}): type it again in a UTF-8 terminal")
    return text


def shown_escaped(text: str) -> str:
    """`text` with each byte that was not UTF-8 as \\xNN and each unprintable character escaped."""
    return "".join(
        f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else c if c.isprintable() else ascii(c)[1:-1] for c in text
    )


# -- checks once the family or the clip is known ------------------------------------------------


def check_frame_count(ref, frames: int | None) -> None:
    """The family's own range (`videochat.families`), as `sample` applies it, before anything loads."""
    check_family_frame_count(ref.family, frames)


def check_family_frame_count(family: str, frames: int | None) -> None:
    """`--frames` against the family's range, before the video is opened."""
    if frames is not None:
        get_family(family).check_frame_count(frames)


def check_segment(args, info):
    """The segment `--start`/`--end` give, checked against the probed clip (`InvalidSegment` names the
    values given); None for the whole clip. Called right after the probe, before anything loads."""
    if args.start is None and args.end is None:
        return None
    from videochat.video.timeline import Timeline

    return Timeline.of(info).segment(args.start, args.end)


# -- the options as the core takes them ---------------------------------------------------------


def generation_settings(args):
    from videochat.generation import GenerationSettings

    return GenerationSettings(max_new_tokens=args.max_new_tokens, temperature=args.temperature)


def load_backend(ref, args, progress=None):
    """The model of `ref`, loaded as the command's options say (after `check_consent`); `progress(stage, fraction)`."""
    from videochat.backends import create_backend
    from videochat.backends.base import LoadOptions

    options = LoadOptions(
        device=args.device, precision=args.precision, trust_remote_code=args.trust_remote_code, approved_code=getattr(args, "approved_code", None)
    )
    backend = create_backend(ref, options)
    print(shown(f"loading {ref.display_name}...{ref.hint}"), file=sys.stderr)
    backend.load(progress)
    return backend


def quiet_library_logs() -> None:
    """transformers' notices are for developers (deprecations, processor defaults): keep stderr for ours."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
