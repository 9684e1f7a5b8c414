"""What tests, benchmarks and the bundle's smoke test share: synthetic clips, tiny checkpoints, a local hub."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
