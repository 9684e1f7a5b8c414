"""Sessions: a video's turns, notes and marks, kept in one file per video, recorded by the window and the CLI, exported."""
