"""Reading video: metadata and the timestamp of every frame (`info.probe`), exact frames by index (`source.VideoSource`), the timeline of frames and times (`timeline`)."""
