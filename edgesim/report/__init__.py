"""edgesim.report."""
