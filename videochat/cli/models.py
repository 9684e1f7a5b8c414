"""`videochat models` and `videochat download`: the model manager on the command line."""

from __future__ import annotations

import json
import sys
import time

from videochat.errors import AccessError, Cancelled
from videochat.safe_text import json_text, shown

EXIT_ACCESS = 3  # a gate is closed: no token, a refused token, a licence not accepted, no such repo


def add_commands(commands) -> None:
    models = commands.add_parser("models", help="list the catalog's models with their state on this machine (no network)")
    models.add_argument("--json", action="store_true", help="one JSON array; keys stay from release to release")
    models.set_defaults(run=run_models)

    download = commands.add_parser("download", help="download a model into the Hugging Face cache; run it again to resume")
    download.add_argument("model", help="a catalog name (InternVL2-1B) or a hub repo id")
    download.add_argument("--revision", help="a branch, tag or commit (default: the one downloaded before, else main)")
    download.add_argument("--update", action="store_true", help="move to the hub's newest main instead of the recorded commit")
    download.set_defaults(run=run_download)


def run_models(args) -> int:
    from videochat.models.on_disk import catalog_status
    from videochat.sizes import format_bytes
    from videochat.models.fit import fits, machine_budget

    budget = machine_budget()
    rows = []
    for entry, status in catalog_status():  # from the disk alone: no network
        rows.append({
            "name": entry.name,
            "label": entry.shown_name,
            "repo_id": entry.repo_id,
            "status": status.state,
            "fraction": round(status.fraction, 4),
            "bytes_on_disk": status.bytes_on_disk,
            "download_bytes": entry.download_bytes,
            "gated": entry.gated or bool(entry.extra_repos),
            "needs": list(entry.extra_repos),
            "missing_extras": status.extras_missing,
            "revision": status.revision,
            "fits": fits(entry, budget).verdict,
        })
    if args.json:
        print(json_text(json.dumps(rows, ensure_ascii=False)))
        return 0
    print(shown(f"this machine: {budget.description} ({budget.precision})"))
    width = max([len("model"), *(len(row["label"]) for row in rows)])
    print(f"{'model':{width}} {'status':16} {'on disk':>9} {'download':>9}  {'gated':5}  fits")
    for row in rows:
        label = f"partial {row['fraction']:.0%}" if row["status"] == "partial" else row["status"]
        if row["missing_extras"]:
            label = "needs extras"
        print(shown(
            f"{row['label']:{width}} {label:16} {format_bytes(row['bytes_on_disk']) if row['bytes_on_disk'] else '-':>9} "
            f"{format_bytes(row['download_bytes']):>9}  {'yes' if row['gated'] else 'no':5}  {row['fits']}"
        ))
    return 0


def run_download(args) -> int:
    import logging
    import os

    from videochat.models import downloads, plan as planning
    from videochat.logs import start_logging

    start_logging(logging.DEBUG if os.environ.get("VIDEOCHAT_LOG_LEVEL", "").upper() == "DEBUG" else logging.INFO)
    try:
        plan = planning.plan(args.model, revision=args.revision, update=args.update)
    except AccessError as error:
        print(shown(f"videochat: {error}"), file=sys.stderr)
        return EXIT_ACCESS
    from videochat.sizes import format_bytes as fmt
    for repo in plan.repos:
        print(shown(f"{repo.repo_id} @ {repo.commit[:12]}: {len(repo.files)} files, {fmt(repo.total_bytes)} ({repo.reason})"), file=sys.stderr)
    print(f"{fmt(plan.on_disk_bytes)} of {fmt(plan.total_bytes)} already on disk; {fmt(plan.free_bytes)} free", file=sys.stderr)
    bar = _ProgressLine(sys.stderr)
    try:
        downloads.download(plan, progress=bar.show)
    except KeyboardInterrupt:
        bar.end()
        print("videochat: paused; run the same command again to resume where it stopped", file=sys.stderr)
        return 130
    except Cancelled as error:
        bar.end()
        print(shown(f"videochat: {error}"), file=sys.stderr)
        return 130
    except AccessError as error:
        bar.end()
        print(shown(f"videochat: {error}"), file=sys.stderr)
        return EXIT_ACCESS
    bar.end()
    print(shown(f"{plan.name} is ready ({fmt(plan.total_bytes)}, verified)."), file=sys.stderr)
    return 0


class _ProgressLine:
    """One line redrawn in place on a terminal; elsewhere a line per file and every few seconds."""

    def __init__(self, stream, interval_s: float = 5.0):
        self._stream = stream
        self._tty = stream.isatty()
        self._interval_s = interval_s
        self._last_line = 0.0
        self._last_file = -1
        self._drawn = False

    def show(self, progress) -> None:
        from videochat.sizes import format_bytes

        text = (
            f"{progress.fraction:6.1%}  {format_bytes(progress.done)} / {format_bytes(progress.total)}  "
            f"{format_bytes(progress.bytes_per_second)}/s  {progress.time_left_text}  [{progress.files_done}/{progress.files_total}] {progress.path}"
        )
        text = shown(text, keep="")
        now = time.monotonic()
        if self._tty:
            self._stream.write("\r" + text[:150].ljust(150))
            self._drawn = True
        elif progress.files_done != self._last_file or now - self._last_line >= self._interval_s:
            self._stream.write(text + "\n")
            self._last_line, self._last_file = now, progress.files_done
        self._stream.flush()

    def end(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._drawn = False
