"""Extra nodes that tests graft onto copies of ``examples/orders``.

Copied by the ``make_project`` fixture into ``<package>/pipelines/extras``; not
imported from here.
"""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
