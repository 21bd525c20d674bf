"""edgesim.cost."""
