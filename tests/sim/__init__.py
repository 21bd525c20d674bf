"""Tests of edgesim.sim."""
