"""edgesim.hardware."""
