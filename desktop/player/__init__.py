"""The player: playback, scrubbing, in/out, frame thumbnails."""
