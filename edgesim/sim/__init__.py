"""edgesim.sim."""
