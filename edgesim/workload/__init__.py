"""edgesim.workload."""
