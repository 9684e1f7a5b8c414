"""Batch: clips from a folder or list, questions from a file, one model, a JSON line per answer."""
