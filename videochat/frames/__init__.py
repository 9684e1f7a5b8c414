"""Frames for a model: each family's sampling rule and transform, and the streaming pass that prepares them."""
