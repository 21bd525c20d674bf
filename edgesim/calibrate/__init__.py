"""``edgesim calibrate``: fit a CPU spec to microbenchmarks measured on this machine."""

from edgesim.calibrate.run import FORMS, Measurements, calibrate, fit_measurements

__all__ = ["FORMS", "Measurements", "calibrate", "fit_measurements"]
