"""edgesim.mapping."""
