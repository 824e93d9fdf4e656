"""The sovereignty control plane.

Nothing is imported here: the pure cores under this package (the policy engines) must import
without Django or Celery. The Celery app lives in ``controlplane.celery``; Django processes
load it when their apps are ready (``controlplane.web.apps``), and ``celery -A controlplane``
finds it there.
"""
