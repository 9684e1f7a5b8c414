"""What the window offers before a model is chosen: the models on disk, and the one suggested here."""

from __future__ import annotations

from desktop.threads.model_choices import models_on_disk, recommendation


def test_the_models_on_disk_are_each_catalog_entrys_label_and_repo_id(monkeypatch):
    from videochat.models import catalog, resolve

    monkeypatch.setattr(resolve, "downloaded_entries", lambda: [catalog.find_entry("InternVL2-1B")])
    assert models_on_disk() == [("InternVL2-1B", "OpenGVLab/InternVL2-1B")]


def test_the_suggestion_names_the_model_recommended_for_this_machine():
    from videochat.models.fit import machine_budget, recommend

    budget = machine_budget()
    text = recommendation()
    assert recommend(budget).name in text and budget.description in text


def test_no_suggestion_when_the_machine_cannot_be_read(monkeypatch):
    def unreadable():
        raise OSError("nvidia-smi hung")

    monkeypatch.setattr("videochat.models.fit.machine_budget", unreadable)
    assert recommendation() is None
