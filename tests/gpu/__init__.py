"""The GPU paths (CUDA bf16/fp16, 8/4-bit, flash attention, out of memory, unload) on tiny checkpoints of every family."""
