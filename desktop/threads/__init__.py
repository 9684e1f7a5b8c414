"""Work off the GUI thread: pool jobs, the model thread, the download thread, throttling."""
