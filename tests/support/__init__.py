"""What tests, benchmarks and the bundle's smoke test share: synthetic clips, tiny checkpoints, a local hub."""
