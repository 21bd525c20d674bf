"""edgesim.search."""
