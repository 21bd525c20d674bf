"""``edgesim validate``: re-run the cross-checks that run here and write the tables they make.

``scalesim`` and ``zigzag`` run the peer simulators (the ``peers`` extra); ``eyeriss`` and
``jetson-nano`` compare with published measurements (``published``).
"""

from edgesim.validate.run import CHECKS, Check, missing_peers, report, validate

__all__ = ["CHECKS", "Check", "missing_peers", "report", "validate"]
