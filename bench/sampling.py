"""Benchmark: the project's sample + decode + preprocess against a decode floor and a card-style loader.

For generated H.264 clips (720p and 1080p, 60 s at 30 fps, a keyframe every 2 s and every
10 s) and 8, 32 and 128 frames, one run prints:

- project: `VideoSource.open(path)` then `videochat.frames.pipeline.prepare(source, family, N)`,
  timed as a whole (probe included);
- floor: the issue's decode floor: the same probe, the same sample indices and the same
  decode plan (`plan_runs`), then PyAV decoding every frame of each planned run from its
  keyframe with the same threading, converting only the wanted frames to RGB, and no
  preprocessing (a reader that skips decoding unreferenced frames can go below it);
- card: what the model card does, without torchvision: decord `get_batch` of all the
  requested frames (`num_threads=1`, as the cards), then for InternVL2/InternVideo2.5 PIL
  per frame (resize to 448, /255, ImageNet normalisation) and for InternVideo2 the card's
  tensor transform on the whole batch;
- card(auto): the same card loader with decord's own thread count (`num_threads=0`),
  for information only.

The probe (demuxing the whole file, decoding its first frame) is paid by both project and
floor; the card loaders pay decord's own open and index instead. Each time is the best of
`--repeats` runs, the loaders taking turns; the "other load" column is the number of cores
other processes kept busy meanwhile (on a shared machine, rows above 0.15 are suspect).
Bars (from the issue): project <= 1.2x floor; card/project >= 1.5 at 32 and 128 frames and
>= 1.0 at every count. InternVL2 and InternVideo2 take at most 64 frames: their cap is
lifted for 128 (sampling and transforms unchanged).

`--memory` (run by default after the table unless `--quick`) measures the peak RSS (VmHWM)
of `prepare` for 128 frames of a 10 s 4K clip in a fresh process; bar: under 2 GiB. The
card loader's peak on the same clip is printed for information.

Clips are written once to bench/_clips/ (git-ignored) and reused until `write_clip` changes.

    python bench/sampling.py                 # full run: several minutes, plus clip generation once
    python bench/sampling.py --quick         # 20 s clips, no 4K memory run
    python bench/sampling.py --family internvideo2 --repeats 3
    python bench/sampling.py --memory        # only the 4K peak-memory measurement
    python bench/sampling.py --quick --profile   # cProfile of one prepare() call

The exit status is 0 whatever the numbers: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import inspect
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python bench/sampling.py` from anywhere, without PYTHONPATH

import numpy as np  # noqa: E402

from tests.support import clips  # noqa: E402
from videochat.families import Family, get_family  # noqa: E402
from videochat.frames.pipeline import prepare  # noqa: E402
from videochat.frames.preprocess import IMAGENET_MEAN, IMAGENET_STD, INTERNVL_SIZE  # noqa: E402
from videochat.frames.sampling import internvideo2_offsets, internvl_indices  # noqa: E402
from videochat.video.source import VideoSource  # noqa: E402
from videochat.video.info import probe  # noqa: E402
from videochat.video.decode_runs import frames_decoded, plan_runs  # noqa: E402

CLIP_DIR = ROOT / "bench" / "_clips"
FPS = 30
RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
KEYFRAME_INTERVALS = (60, 300)  # every 2 s and every 10 s at 30 fps
FRAME_COUNTS = (8, 32, 128)
FLOOR_BAR = 1.2  # project / floor at most this
CARD_BAR_LARGE = 1.5  # card / project at least this at LARGE_COUNTS
CARD_BAR_ALL = 1.0  # card / project at least this at every count
LARGE_COUNTS = (32, 128)
OTHER_LOAD_WARNING = 0.15  # cores used by other processes during a row, above which its times are suspect
MEMORY_CLIP = {"size": (3840, 2160), "frames": 300, "keyframe_interval": 60}  # 10 s of 4K
MEMORY_FAMILY, MEMORY_FRAMES, MEMORY_BAR_BYTES = "internvideo2.5", 128, 2 * 1024**3


# -- clips ------------------------------------------------------------------------------


def generator_fingerprint() -> str:
    """Short hash of the clip generator's code: clips written by an older `write_clip` are not reused."""
    source = "".join(inspect.getsource(function) for function in (clips.write_clip, clips._texture, clips.frame_code_image))
    return hashlib.sha1(source.encode()).hexdigest()[:8]


def clip_path(label: str, frames: int, keyframe_interval: int) -> Path:
    return CLIP_DIR / f"{label}_{frames // FPS}s_kf{keyframe_interval}_{generator_fingerprint()}.mp4"


def ensure_clip(label: str, size: tuple[int, int], frames: int, keyframe_interval: int) -> Path:
    """The clip, written first if it is not there yet (to a temporary name, so a killed run leaves no half clip)."""
    path = clip_path(label, frames, keyframe_interval)
    if path.exists():
        return path
    CLIP_DIR.mkdir(parents=True, exist_ok=True)
    stem = path.stem.rsplit("_", 1)[0]
    for stale in CLIP_DIR.glob(f"{stem}*.mp4"):  # the same clip from an older generator
        stale.unlink()
    partial = path.with_name(path.stem + ".partial.mp4")
    started = time.perf_counter()
    clips.write_clip(partial, frames=frames, width=size[0], height=size[1], fps=FPS, keyframe_interval=keyframe_interval, texture=True)
    partial.rename(path)
    print(f"  generated {path.name}: {time.perf_counter() - started:.1f} s, {path.stat().st_size / 1e6:.1f} MB", flush=True)
    return path


def benchmark_clips(frames: int) -> list[tuple[str, int, Path]]:
    started = time.perf_counter()
    clips = [
        (label, interval, ensure_clip(label, size, frames, interval))
        for label, size in RESOLUTIONS.items()
        for interval in KEYFRAME_INTERVALS
    ]
    print(f"clips ready in {time.perf_counter() - started:.1f} s (reused when already in {CLIP_DIR.relative_to(ROOT)})", flush=True)
    return clips


# -- the three loaders ------------------------------------------------------------------


def bench_family(name: str, counts) -> Family:
    """The family, with its frame cap lifted to the largest count benchmarked (sampling and transforms unchanged)."""
    family = get_family(name)
    if max(counts) > family.max_frames:
        print(f"note: {family.title} takes at most {family.max_frames} frames; its cap is lifted to {max(counts)} for this benchmark")
        family = dataclasses.replace(family, max_frames=max(counts))
    return family


def run_project(path: Path, family: Family, num_frames: int):
    source = VideoSource.open(path)
    try:
        return prepare(source, family, num_frames=num_frames).pixel_values
    finally:
        source.close()


def run_floor(path: Path, family: Family, num_frames: int) -> int:
    """Probe, plan as the project does, decode each run from its keyframe; RGB for wanted frames only."""
    import av

    info = probe(path)
    wanted = sorted({int(i) for i in family.sample(info, num_frames, None).indices})
    pts = info.table.pts
    container = av.open(str(path))
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # as the project's PyAV reader
    kept = 0
    try:
        for run in plan_runs(wanted, info.table):
            by_pts = {int(pts[i]): i for i in run.indices}
            container.seek(int(pts[run.keyframe]), stream=stream, backward=True)
            stream.codec_context.flush_buffers()
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if frame.pts in by_pts:
                        del by_pts[frame.pts]
                        frame.to_ndarray(format="rgb24")
                        kept += 1
                if not by_pts:
                    break
    finally:
        container.close()
    return kept


def card_indices(family: Family, frame_count: int, num_frames: int) -> np.ndarray:
    if family.has_patches:  # InternVL2 / InternVideo2.5: get_index with no bound
        return internvl_indices(0, frame_count - 1, num_frames)
    return internvideo2_offsets(frame_count, num_frames)


def internvl_card_transform(frames: np.ndarray):
    """Per frame, as the card: PIL RGB, resize to 448 (bicubic), ToTensor, Normalize; then stack."""
    import torch
    from PIL import Image

    mean = torch.tensor(IMAGENET_MEAN).view(-1, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(-1, 1, 1)
    tensors = []
    for frame in frames:
        image = Image.fromarray(frame).convert("RGB").resize((INTERNVL_SIZE, INTERNVL_SIZE))
        tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1).float().div(255.0)
        tensors.append(tensor.sub(mean).div(std))
    return torch.stack(tensors)


def run_card(path: Path, family: Family, num_frames: int, threads: int = 1):
    """decord get_batch of every requested frame, then the card's preprocessing."""
    from decord import VideoReader, cpu

    reader = VideoReader(str(path), ctx=cpu(0), num_threads=threads)
    float(reader.get_avg_fps())  # the cards read it (for bounds and messages)
    indices = card_indices(family, len(reader), num_frames)
    frames = reader.get_batch(indices).asnumpy()
    del reader
    if family.has_patches:
        return internvl_card_transform(frames)
    return family.transform(frames)  # InternVideo2 cards transform the whole batch at once


METHODS = {
    "project": run_project,
    "floor": run_floor,
    "card": lambda path, family, n: run_card(path, family, n, threads=1),
    "card_auto": lambda path, family, n: run_card(path, family, n, threads=0),
}


# -- measuring --------------------------------------------------------------------------


def timed(function) -> float:
    gc.collect()
    started = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - started
    del result
    return elapsed


def cpu_seconds() -> tuple[float, float, float]:
    """(wall clock, CPU seconds busy on the whole machine, CPU seconds of this process and its children)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    machine = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return time.perf_counter(), machine, own.user + own.system + own.children_user + own.children_system


def other_load(before: tuple[float, float, float]) -> float:
    """Cores that other processes kept busy since `before`: timings on a shared machine are only as good as this is low."""
    after = cpu_seconds()
    wall = after[0] - before[0]
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / wall) if wall > 0 else 0.0


def measure_row(label: str, interval: int, path: Path, family: Family, num_frames: int, repeats: int) -> dict:
    """Best of `repeats` for each loader, taken in turns so that a burst of load elsewhere hits them alike."""
    before = cpu_seconds()
    times = {name: float("inf") for name in METHODS}
    for _ in range(repeats):
        for name, method in METHODS.items():
            times[name] = min(times[name], timed(lambda: method(path, family, num_frames)))
    return {"clip": label, "keyframe_interval": interval, "frames": num_frames, **times, "other_load": other_load(before)}


def check_same_frames(path: Path, family: Family, num_frames: int) -> None:
    """The card loader must read the frames the project samples, or the comparison is void."""
    from decord import VideoReader, cpu

    project = family.sample(probe(path), num_frames, None).indices
    card = card_indices(family, len(VideoReader(str(path), ctx=cpu(0))), num_frames)
    if not np.array_equal(project, card):
        print(f"WARNING: project and card sample different frames on {path.name} at {num_frames}")


def warm_up(path: Path, family: Family) -> None:
    """One untimed call of each loader, so that imports and first-call set-up land in no row."""
    for method in METHODS.values():
        method(path, family, 4)


# -- report -----------------------------------------------------------------------------


def print_table(rows: list[dict]) -> None:
    header = (f"{'clip':<6} {'kf':>4} {'frames':>6} {'project s':>10} {'floor s':>8} {'card s':>8} {'proj/floor':>10} {'card/proj':>9} "
              f"{'card(auto) s':>12} {'other load':>10}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['clip']:<6} {row['keyframe_interval']:>4} {row['frames']:>6} {row['project']:>10.3f} {row['floor']:>8.3f} "
            f"{row['card']:>8.3f} {row['project'] / row['floor']:>10.2f} {row['card'] / row['project']:>9.2f} {row['card_auto']:>12.3f} "
            f"{row['other_load']:>10.2f}"
        )
    busy = [row for row in rows if row["other_load"] > OTHER_LOAD_WARNING]
    if busy:
        print(f"WARNING: other processes kept more than {OTHER_LOAD_WARNING} cores busy during {len(busy)} of {len(rows)} rows: "
              "those timings are not to be trusted; run again on a quiet machine")


def verdicts(row: dict) -> list[tuple[str, bool]]:
    over_floor = row["project"] / row["floor"]
    speedup = row["card"] / row["project"]
    checks = [(f"project/floor {over_floor:.4f} <= {FLOOR_BAR}", over_floor <= FLOOR_BAR)]
    card_bar = CARD_BAR_LARGE if row["frames"] in LARGE_COUNTS else CARD_BAR_ALL  # the larger bar implies the other
    checks.append((f"card/project {speedup:.4f} >= {card_bar}", speedup >= card_bar))
    return checks


def print_verdicts(rows: list[dict]) -> None:
    print(f"\nbars: project <= {FLOOR_BAR}x floor; card/project >= {CARD_BAR_LARGE} at {' and '.join(map(str, LARGE_COUNTS))} frames; card/project >= {CARD_BAR_ALL} at every count")
    failures = 0
    for row in rows:
        checks = verdicts(row)
        failures += sum(not ok for _, ok in checks)
        marks = "; ".join(f"{'PASS' if ok else 'FAIL'} {text}" for text, ok in checks)
        print(f"{row['clip']:<6} kf {row['keyframe_interval']:>3} {row['frames']:>4} frames: {marks}")
    print(f"overall: {'PASS' if not failures else f'FAIL ({failures} failed checks)'}")


def print_setup(family: Family, repeats: int) -> None:
    import av
    import decord
    import torch

    print(f"family {family.name}; best of {repeats}; torch threads {torch.get_num_threads()} (default, for project and card alike); "
          f"PyAV {av.__version__} thread_type AUTO; decord {decord.__version__} num_threads=1 (card) / 0 (card auto); {os.cpu_count()} CPUs")
    print("project and floor times include the probe (demux of the whole file + first frame); card times include decord's open and index")
    print(f"code: {code_state()}; load average before the run {os.getloadavg()[0]:.2f}")


def code_state() -> str:
    """Which project code is measured: the commit, and whether videochat/ differs from it."""
    def git(*arguments):
        return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = [line for line in git("status", "--porcelain", "--", "videochat").splitlines() if line]
    except OSError:
        return "unknown (no git)"
    return f"commit {commit or 'unknown'}" + (f", with {len(changed)} uncommitted change(s) in videochat/" if changed else ", videochat/ as committed")


def print_plan_sizes(clips, family: Family, counts) -> None:
    """How many frames the shared decode plan decodes: the work the floor cannot avoid."""
    for label, interval, path in clips:
        info = probe(path)
        started = time.perf_counter()
        probe(path)
        probe_s = time.perf_counter() - started
        work = []
        for count in counts:
            wanted = sorted({int(i) for i in family.sample(info, count, None).indices})
            work.append(f"{count}->{frames_decoded(plan_runs(wanted, info.table))}")
        print(f"  {label} kf {interval}: {info.frame_count} frames, probe {probe_s:.3f} s; frames decoded by the plan: {', '.join(work)}")


# -- peak memory (4K) -------------------------------------------------------------------


def peak_rss_kib() -> int:
    """Peak resident set size of this process, KiB: VmHWM, which starts afresh at exec.

    `ru_maxrss` is not used for the verdict: Linux carries the parent's peak over into a
    child's `ru_maxrss` across fork and exec, so in a child of this (large) process it
    reports at least the parent's peak. It is printed next to VmHWM for reference.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def memory_child(path: str, family_name: str, num_frames: int, loader: str) -> None:
    """Run in a fresh process: one prepare (or card load) of `path`, then print RSS figures as JSON."""
    import av  # noqa: F401
    import decord  # noqa: F401
    import PIL.Image  # noqa: F401
    import torch

    after_imports = peak_rss_kib()
    family = dataclasses.replace(get_family(family_name), max_frames=max(num_frames, get_family(family_name).max_frames))
    started = time.perf_counter()
    loader_function = run_project if loader == "project" else run_card
    shape = tuple(loader_function(Path(path), family, num_frames).shape)
    print(json.dumps({
        "after_imports_kib": after_imports,
        "peak_kib": peak_rss_kib(),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "seconds": time.perf_counter() - started,
        "shape": shape,
        "torch_threads": torch.get_num_threads(),
    }))


def measure_memory_of(path: Path, loader: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--memory-child", str(path), MEMORY_FAMILY, str(MEMORY_FRAMES), loader]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(f"memory child ({loader}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_memory() -> None:
    width, height = MEMORY_CLIP["size"]
    print(f"\npeak memory: {MEMORY_FAMILY}, {MEMORY_FRAMES} frames of a {width}x{height} clip, fresh process each, peak RSS = VmHWM")
    path = ensure_clip("2160p", MEMORY_CLIP["size"], MEMORY_CLIP["frames"], MEMORY_CLIP["keyframe_interval"])
    for loader in ("project", "card"):
        result = measure_memory_of(path, loader)
        peak, base = result["peak_kib"] / 2**20, result["after_imports_kib"] / 2**20
        if loader == "project":
            verdict = f"{'PASS' if peak * 2**30 < MEMORY_BAR_BYTES else 'FAIL'} (bar < {MEMORY_BAR_BYTES / 2**30:.0f} GiB)"
        else:
            verdict = "info"
        print(
            f"  {loader:<8} peak RSS {peak:.2f} GiB (after importing torch+av+decord+PIL: {base:.2f} GiB, increment {peak - base:.2f} GiB; "
            f"ru_maxrss {result['ru_maxrss_kib'] / 2**20:.2f} GiB), {result['seconds']:.1f} s, output {list(result['shape'])}: {verdict}"
        )


# -- profile ----------------------------------------------------------------------------


def run_profile(path: Path, family: Family, num_frames: int) -> None:
    import cProfile
    import pstats

    run_project(path, family, 4)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    run_project(path, family, num_frames)
    profiler.disable()
    print(f"\ncProfile of open + prepare, {path.name}, {num_frames} frames (tottime):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


# -- main -------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s clips instead of 60 s, and no 4K memory run")
    parser.add_argument("--family", default="internvl2", help="model family (default internvl2, as the issue's card comparison)")
    parser.add_argument("--repeats", type=int, default=1, help="take the best of N runs of each loader")
    parser.add_argument("--memory", action="store_true", help="only the 4K peak-memory measurement")
    parser.add_argument("--no-memory", action="store_true", help="skip the 4K peak-memory measurement")
    parser.add_argument("--profile", action="store_true", help="cProfile one prepare() call on the 1080p, 10 s keyframe clip at 128 frames")
    parser.add_argument("--memory-child", nargs=4, metavar=("PATH", "FAMILY", "FRAMES", "LOADER"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        path, family_name, frames, loader = args.memory_child
        memory_child(path, family_name, int(frames), loader)
        return 0
    if args.memory:
        run_memory()
        return 0

    family = bench_family(args.family, FRAME_COUNTS)
    clips = benchmark_clips(600 if args.quick else 1800)
    if args.profile:
        run_profile(clips[-1][2], family, max(FRAME_COUNTS))
        return 0
    print_setup(family, args.repeats)
    print_plan_sizes(clips, family, FRAME_COUNTS)
    for _, _, path in clips:
        for count in FRAME_COUNTS:
            check_same_frames(path, family, count)
    warm_up(clips[0][2], family)
    print()
    rows = []
    for label, interval, path in clips:
        for count in FRAME_COUNTS:
            rows.append(measure_row(label, interval, path, family, count, args.repeats))
            print(f"  measured {label} kf {interval} {count} frames", flush=True)
    print()
    print_table(rows)
    print_verdicts(rows)
    if not args.quick and not args.no_memory:
        run_memory()
    return 0


if __name__ == "__main__":
    sys.exit(main())
