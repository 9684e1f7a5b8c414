"""A test-only stand-in of timm: only what the stand-in checkpoints import (`timm.models.layers.DropPath`).

Why it exists: the OpenGVLab models' code imports timm, and timm imports torchvision, which does
not import beside this CI's CPU torch (PyPI's torchvision is the CUDA build). The stand-in
checkpoints import timm as the real code does, so that the missing-timm path is tested; this
package lets the tests run their "timm present" path. `tests.support.standins.provide_test_timm`
puts its folder at the end of sys.path and PYTHONPATH, only where no timm is installed: a real
timm always wins. It is never installed or bundled.

`VIDEOCHAT_TEST_TIMM=absent` makes it behave as a missing package, `=broken` as a timm whose
torchvision was built for another torch (put its folder first on the path for those).
"""

import os

_mode = os.environ.get("VIDEOCHAT_TEST_TIMM", "")
if _mode == "absent":
    raise ModuleNotFoundError("No module named 'timm'", name="timm")
if _mode == "broken":
    # What PyPI's CUDA torchvision 0.28.0 says beside torch 2.13.0+cpu.
    raise RuntimeError("operator torchvision::nms does not exist")

__version__ = "0.0.0+test-stub"
