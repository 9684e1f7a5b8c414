"""The model behind the OpenAI-compatible protocol (docs/engine-protocol.md): `videochat serve`
(`server.py`), the client that drives it or another engine (`client.py`), the frames as they travel
(`media.py`), and the error codes both sides share (`errors.py`)."""
