"""Stand-in for OpenGVLab's InternVL2 / InternVideo2.5 remote code (copied into tiny checkpoints)."""
