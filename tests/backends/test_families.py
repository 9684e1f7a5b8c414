"""The family registry: every family declared once, configs recognised by exactly one, and a new family added by one module.

The last test is the recipe: a module dropped into `videochat.families` (here from a temporary
folder) and one catalog entry, and a catalog name and a folder both load and answer through it.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

import videochat.families
from videochat import errors
from videochat.backends import create_backend
from videochat.backends.consent import check_consent
from videochat.chat import VideoChat
from videochat.families import FAMILIES, all_backends, all_families, backend_for_config, get_family
from videochat.models import catalog
from videochat.models.catalog import GB, CatalogEntry
from videochat.models.resolve import resolve_model
from videochat.video.source import VideoSource

# One config.json of each kind the seed checkpoints ship (the fields recognition reads).
SEED_CONFIGS = {
    ("internvl", "internvl2"): ({"model_type": "internvl_chat", "architectures": ["InternVLChatModel"], "auto_map": {"AutoModel": "modeling_internvl_chat.InternVLChatModel"}}, "InternVL2-1B"),
    ("internvl", "internvideo2.5"): ({"model_type": "internvl_chat", "auto_map": {"AutoModel": "modeling_internvl_chat_hico2.InternVLChatModel"}}, "InternVideo2_5_Chat_8B"),
    ("internvideo2", "internvideo2"): ({"model_type": "InternVideo2_VideoChat2", "auto_map": {"AutoModel": "modeling_videochat2.InternVideo2_VideoChat2"}}, "InternVideo2-Chat-8B"),
    ("internvideo2", "internvideo2-hd"): ({"model_type": "InternVideo2_VideoChat2", "hd_num": 6, "auto_map": {"AutoModel": "modeling_videochat2.InternVideo2_VideoChat2"}}, "model"),
    ("llava-onevision", "native"): ({"model_type": "llava_onevision", "architectures": ["LlavaOnevisionForConditionalGeneration"]}, "model"),
    ("qwen2-vl", "native"): ({"model_type": "qwen2_vl", "architectures": ["Qwen2VLForConditionalGeneration"]}, "model"),
}


def test_the_registry_finds_every_family_module():
    assert list(FAMILIES) == ["internvideo2", "internvideo2.5", "internvideo2-hd", "internvl2", "internvl3", "native", "qwen2.5-vl", "qwen3-vl"]
    seed = [name for name, family in FAMILIES.items() if family.runtime == "seed"]
    assert seed == ["internvideo2", "internvideo2.5", "internvideo2-hd", "internvl2", "native"]
    assert {name for name, family in FAMILIES.items() if family.runtime == "current"} == {"internvl3", "qwen2.5-vl", "qwen3-vl"}
    assert set(all_backends()) == {"internvl", "internvideo2", "llava-onevision", "qwen2-vl", "internvl3", "qwen2.5-vl", "qwen3-vl", "qwen3-vl-moe"}
    assert {name for name, family in FAMILIES.items() if family.runs_model_code} == {"internvideo2", "internvideo2.5", "internvideo2-hd", "internvl2"}


@pytest.mark.parametrize("expected", list(SEED_CONFIGS))
def test_each_seed_config_is_recognised_by_exactly_one_backend(expected):
    config, folder_name = SEED_CONFIGS[expected]
    assert backend_for_config(config, folder_name) == expected
    facts = videochat.families.ModelConfig(config, folder_name)
    claims = [
        (backend.name, family.name)
        for family in all_families().values()
        for backend in family.backends
        if backend.model_type == facts.model_type or (backend.recognises is not None and backend.recognises(facts))
    ]
    assert claims == [expected]


def test_a_model_type_claim_wins_over_an_architecture_guess():
    assert backend_for_config({"model_type": "qwen2_vl", "architectures": ["InternVLChatModel"]}) == ("qwen2-vl", "native")


FAMILY_MODULE = '''
"""A made-up family for the test: InternVL2's frame rule, raw frames, and a backend that says how many frames it saw.

Its backend sits in this module for brevity; a real family's lives in videochat/backends/.
"""

from videochat.backends.base import Backend, Turn
from videochat.families.family import Backend as BackendSpec, Family
from videochat.frames import preprocess, sampling


class FrameCounter(Backend):
    def load(self, progress=None):
        self.model = "loaded"

    def stream(self, conversation, question, settings=None):
        answer = f"{len(conversation.prepared.sample.indices)} frames"
        conversation.turns.append(Turn(question, answer))
        yield answer

    def _release(self):
        self.model = None


FAMILY = Family(
    name="frame-counter",
    title="Frame counter",
    default_frames=4,
    max_frames=16,
    sample=sampling.sample_internvl2,
    transform=preprocess.native_frames,
    frame_axis=0,
    backends=(BackendSpec("frame-counter", "videochat.families.frame_counter:FrameCounter", shown="Frame-Counter", model_type="frame_counter"),),
)
'''


@pytest.fixture
def frame_counter_family(tmp_path, monkeypatch):
    """The new module in a folder the package searches, and its catalog entry, for this test only."""
    folder = tmp_path / "more_families"
    folder.mkdir()
    (folder / "frame_counter.py").write_text(textwrap.dedent(FAMILY_MODULE))
    monkeypatch.setattr(videochat.families, "__path__", [*videochat.families.__path__, str(folder)])
    entry = CatalogEntry("Someone/Frame-Counter-1B", "frame-counter", 1.0, 2 * GB, default_frames=4, label="Frame-Counter-1B")
    monkeypatch.setattr(catalog, "CATALOG", (*catalog.CATALOG, entry))
    for index, key in ((catalog.BY_REPO, entry.repo_id), (catalog.BY_NAME, entry.name), (catalog.BY_LABEL, entry.label)):
        monkeypatch.setitem(index, key.lower(), entry)
    all_families.cache_clear()
    all_backends.cache_clear()
    yield entry
    all_families.cache_clear()
    all_backends.cache_clear()
    sys.modules.pop("videochat.families.frame_counter", None)


def test_a_family_is_added_by_one_module_and_one_catalog_entry(frame_counter_family, tmp_path, clips):
    by_name = resolve_model("Frame-Counter-1B")
    assert (by_name.family, by_name.backend, by_name.default_frames, by_name.entry) == ("frame-counter", "frame-counter", 4, frame_counter_family)

    folder = tmp_path / "my-counter"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "frame_counter"}))
    ref = resolve_model(str(folder))
    assert (ref.family, ref.backend, ref.entry) == ("frame-counter", "frame-counter", None)
    assert check_consent(ref) is None  # it does not declare that it runs the folder's code

    backend = create_backend(ref)
    backend.load()
    with VideoSource.open(clips("plain.mp4")) as source:
        chat = VideoChat(source, backend)
        assert "".join(chat.ask("How many frames?")) == "4 frames"
        assert chat.answers[-1].family == "frame-counter" and len(chat.answers[-1].times) == 4
        with pytest.raises(errors.InvalidFrameCount, match="Frame counter takes 1 to 16 frames"):
            "".join(chat.ask("And now?", num_frames=17))
    with pytest.raises(errors.UnknownModel, match="Frame-Counter"):
        backend_for_config({"model_type": "bert"})  # the refusal lists what can run, the new family included


def test_the_registry_forgets_the_added_family_afterwards():
    assert "frame-counter" not in all_families()
    with pytest.raises(KeyError, match="unknown model family"):
        get_family("frame-counter")
