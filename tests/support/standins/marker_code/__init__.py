"""Code that only says it ran: a model folder's module that writes a marker file when imported."""
