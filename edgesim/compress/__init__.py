"""edgesim.compress."""
