"""A video's session in the window: the keeper that saves it, the notes panel, exports."""
