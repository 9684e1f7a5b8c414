"""The chat pane: questions, streamed answers, frame-time chips."""
