"""`GenerationSettings`: the one home of the generation defaults, immutable, light to import."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import pytest

from videochat.generation import DEFAULTS, GenerationSettings


def test_settings_compare_by_value_and_cannot_be_changed():
    settings = GenerationSettings(max_new_tokens=40, temperature=0.7)
    assert settings == GenerationSettings(40, 0.7) and hash(settings) == hash(GenerationSettings(40, 0.7))
    assert settings != DEFAULTS and settings != settings.as_dict()
    with pytest.raises(AttributeError):
        settings.temperature = 0.0
    assert copy.deepcopy(settings) == settings == pickle.loads(pickle.dumps(settings))


def test_an_answer_records_every_field_by_name():
    assert list(DEFAULTS.as_dict()) == list(GenerationSettings.FIELDS)
    assert GenerationSettings(**DEFAULTS.as_dict()) == DEFAULTS


def test_greedy_by_default_and_sampling_only_above_zero_temperature():
    assert DEFAULTS.as_kwargs() == {"max_new_tokens": DEFAULTS.max_new_tokens, "do_sample": False, "num_beams": 1}
    assert GenerationSettings(temperature=0.5).as_kwargs()["top_p"] == DEFAULTS.top_p


def test_the_settings_file_defaults_are_the_generation_defaults_without_importing_dataclasses():
    code = (
        "import sys; from videochat.settings import Settings; from videochat.generation import DEFAULTS;"
        "print((Settings().max_new_tokens, Settings().temperature) == (DEFAULTS.max_new_tokens, DEFAULTS.temperature), 'dataclasses' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
