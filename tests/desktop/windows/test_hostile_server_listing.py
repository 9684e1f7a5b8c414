"""A server the user added that lists thousands of models, some with ids no one can read: the model list gets
a readable few, each exactly as the server spells it (it is sent back so), never what cannot be shown."""

from __future__ import annotations

import pytest

from desktop.windows.engine_servers import MAX_MODELS_SHOWN, list_served_models
from tests.support.engine_standin import EngineStandIn
from videochat.engines.servers import parse_engine_choice


@pytest.fixture(autouse=True)
def config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_a_listing_of_thousands_of_models_gives_a_readable_few_and_none_that_cannot_be_shown():
    models = ("\u202eevil", "line\nbreak", *(f"org/model-{n}" for n in range(5000)))
    with EngineStandIn(models=models) as standin:
        rows, problem = list_served_models(standin.url, None)
    assert problem is None and len(rows) == MAX_MODELS_SHOWN
    assert [row[2] for row in rows] == [f"org/model-{n}" for n in range(MAX_MODELS_SHOWN)]
    assert rows[0][0].startswith("model-0 @ 127.0.0.1:") and parse_engine_choice(rows[0][1]) == (standin.url, "org/model-0")
