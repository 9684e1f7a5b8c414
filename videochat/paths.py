"""Where the app keeps its own files: the platform's config, data, cache and log folders.

The one home of these paths: every module asks here. Each function reads the environment when
called (tests and the bundle's smoke test point XDG_* elsewhere), and platformdirs is imported
inside them: the desktop reads the settings before its first paint, and this module is all of
that read that it imports.
"""

from __future__ import annotations

import time
from pathlib import Path

APP_NAME = "videochat"


def config_folder() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def data_folder() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def cache_folder() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def log_folder() -> Path:
    from platformdirs import user_log_path

    return user_log_path(APP_NAME, appauthor=False)


def settings_file() -> Path:
    return config_folder() / "settings.json"


def sessions_folder() -> Path:
    """One JSON file per video (`videochat.sessions.store`)."""
    return data_folder() / "sessions"


def downloads_record() -> Path:
    return data_folder() / "downloads.json"


def engine_keys_file() -> Path:
    """API keys of engines, stored 0600 (`engines/keys.py`)."""
    return config_folder() / "engine-keys.json"


def consent_file() -> Path:
    """The remembered yeses to running a model's own code."""
    return data_folder() / "remote-code-consent.json"


def model_links_folder() -> Path:
    """Links with module-safe names to model folders whose names transformers cannot import."""
    return cache_folder() / "model-links"


def log_file() -> Path:
    return log_folder() / "videochat.log"


def start_failure_report() -> Path:
    """A new report of a start that failed before Qt could show it, named by the time."""
    return log_folder() / f"start-failure-{time.strftime('%Y%m%d-%H%M%S')}.txt"


def child_working_folder() -> Path:
    """The working folder of the Python programs the app starts (the model process, the runtime
    installer's venv and pip, the package check): an empty one of the app's own. `python -m` puts the
    working folder first on the import path, and the folder a user started the app from (Downloads)
    may hold a json.py; Python 3.11's PYTHONSAFEPATH, set too, is not there before."""
    folder = cache_folder() / "run"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder
