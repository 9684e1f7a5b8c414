"""A tokenizer module that says it ran: importing it appends its name to the file named by VIDEOCHAT_TEST_MARKER.

Real remote code runs at import too; a test that finds no marker knows that nothing of the
folder was imported, whatever failed afterwards.
"""

import os

from transformers import PreTrainedTokenizerFast

_MARKER = os.environ.get("VIDEOCHAT_TEST_MARKER")
if _MARKER:
    with open(_MARKER, "a", encoding="utf-8") as stream:
        stream.write(__name__ + "\n")


class MarkerTokenizer(PreTrainedTokenizerFast):
    pass
