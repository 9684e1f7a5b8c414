"""Every core exception the server can meet travels to the client and back as itself."""

import pytest

from videochat import errors
from videochat.engines.errors import CODES, EngineError, code_for, error_from


@pytest.mark.parametrize("cls", [errors.InvalidQuestion, errors.InvalidFrameCount, errors.InvalidSegment, errors.UnknownModel,
                                 errors.ModelNotDownloaded, errors.RemoteCodeRefused, errors.CorruptVideo, errors.OutOfMemory,
                                 errors.BadModelFolder, errors.Cancelled, errors.UnsupportedSetting])
def test_a_core_error_comes_back_from_its_code_as_the_same_kind_with_its_message(cls):
    code, status = code_for(cls("what to do"))
    back = error_from(code, "what to do", status)
    listed = next(c for c in cls.__mro__ if any(kind is c for _, kind in CODES.values()))
    assert type(back) is listed and issubclass(cls, listed)
    assert str(back) == "what to do" and status == CODES[code][0]


def test_an_unexpected_error_is_internal_and_an_unknown_code_is_an_engine_error():
    assert code_for(RuntimeError("x")) == ("internal_error", 500)
    back = error_from("<script>", "", 502)
    assert isinstance(back, EngineError) and back.code == "internal_error" and "502" in str(back)


def test_missing_packages_travels_as_itself_and_is_still_a_load_error():
    code, status = code_for(errors.MissingPackages("run this"))
    back = error_from(code, "run this", status)
    assert code == "missing_packages" and type(back) is errors.MissingPackages and isinstance(back, errors.ModelLoadError)
