"""VideoChat core: video reading, per-model frame sampling and preprocessing, models.

This package never imports Qt or anything that needs a display, and importing it does
no work: heavy modules (torch, av, decord) are imported where they are used.
"""

__version__ = "0.1.0"
