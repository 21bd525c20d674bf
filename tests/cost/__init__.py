"""Tests of edgesim.cost."""
