"""The audio engine: pure functions over numpy arrays, no HTTP and no global state."""
