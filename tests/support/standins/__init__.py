"""Stand-ins of the OpenGVLab models' remote code, and builders of tiny checkpoints that use them.

The real checkpoints cannot be downloaded on the build machines, so the tests build tiny ones:
a folder with config.json (whose `auto_map` names the stand-in modules), the stand-in `.py`
files, random weights saved with `save_pretrained` from a fixed seed, and a tokenizer trained
here. The stand-ins are small originals written from the real code's observable behaviour: its
public signatures, prompt formats and load-time quirks (see each module's header), so that the
backends load and call them exactly as they do the real models.
"""

from tests.support.standins.builders import (
    build_hub_extras,
    build_internvideo2,
    build_internvideo25,
    build_internvl2,
    build_marker_folder,
    isolate_hf_caches,
    provide_test_timm,
    without_timm,
)

__all__ = ["build_hub_extras", "build_internvideo2", "build_internvideo25", "build_internvl2", "build_marker_folder", "isolate_hf_caches",
           "provide_test_timm", "without_timm"]
