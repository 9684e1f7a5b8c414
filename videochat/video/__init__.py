"""Reading video: metadata and the timestamp of every frame (`info.probe`), exact frames by index (`source.VideoSource`), the timeline of frames and times (`timeline`)."""

# The frame readers by name, in order of preference (`source.READERS` holds them): PyAV first,
# since bench/sampling.py measured it faster than decord on every workload here, and it reads
# VP9/WebM and files without timestamps, which decord does not.
READER_ORDER = ("pyav", "decord")
