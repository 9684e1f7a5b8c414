"""Stand-in for OpenGVLab's InternVideo2-Chat(-HD) remote code (copied into tiny checkpoints)."""
