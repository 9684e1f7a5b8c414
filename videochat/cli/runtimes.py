"""`videochat runtime install NAME` and `videochat runtime list`: the Python environments model processes run in."""

from __future__ import annotations

import json
import sys
import time

from videochat.safe_text import json_text, shown


def add_commands(commands) -> None:
    from videochat.runtimes import MANAGED

    runtime = commands.add_parser("runtime", help="install or list the Python environments that run models (runtimes)")
    actions = runtime.add_subparsers(required=True, metavar="ACTION")
    install = actions.add_parser("install", help="install a runtime (a few GB; Ctrl-C cancels and keeps nothing)")
    install.add_argument("name", choices=list(MANAGED))
    install.add_argument("--reinstall", action="store_true", help="install it again even if it is installed (the old one stays until the new one is ready)")
    install.set_defaults(run=run_install)
    listing = actions.add_parser("list", help="show each runtime with its Python, torch, torchvision and transformers and its size")
    listing.add_argument("--json", action="store_true", help="one JSON array; keys stay from release to release")
    listing.set_defaults(run=run_list)


def run_install(args) -> int:
    from videochat.runtimes.install import install

    started = time.monotonic()
    step = [""]

    def progress(what: str, fraction: float) -> None:
        # A step's own lines ("<step>: Downloading ...") are shown under it, indented.
        if step[0] and what.startswith(step[0] + ": "):
            print(shown(f"      {what[len(step[0]) + 2:]}"), file=sys.stderr, flush=True)
            return
        step[0] = what
        print(shown(f"[{fraction:4.0%} {time.monotonic() - started:5.0f} s] {what}"), file=sys.stderr, flush=True)

    folder = install(args.name, progress, reinstall=args.reinstall)
    print(shown(str(folder)))
    return 0


def run_list(args) -> int:
    from videochat.runtimes import MANAGED
    from videochat.runtimes.versions import list_runtimes
    from videochat.sizes import format_bytes

    states = [state.to_dict() for state in list_runtimes()]
    if args.json:
        print(json_text(json.dumps(states, ensure_ascii=False)))
        return 0
    print(f"{'runtime':8} {'python':8} {'torch':14} {'torchvision':14} {'transformers':13} {'size':>9}  where")
    for state in states:
        if not state["installed"]:
            how = f" (videochat runtime install {state['name']})" if state["name"] in MANAGED else ""
            print(shown(f"{state['name']:8} not installed: {state['problem']}{how}"))
            continue
        size = format_bytes(state["size_bytes"]) if state["size_bytes"] is not None else "-"
        print(shown(
            f"{state['name']:8} {state['python'] or '-':8} {state['torch'] or '-':14} {state['torchvision'] or '-':14} "
            f"{state['transformers'] or '-':13} {size:>9}  {state['location']}"
        ))
        if state["problem"]:
            print(shown(f"         does not work: {state['problem']}"))
    return 0
