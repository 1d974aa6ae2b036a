"""A Self's own data, the two entry points of DESIGN's domain API and the retention job.

One module per concern; this package only re-exports them.
"""

from .archive import export_self_data
from .erasure import erase_self
from .retention import forget_expired

__all__ = [
    "erase_self",
    "export_self_data",
    "forget_expired",
]
