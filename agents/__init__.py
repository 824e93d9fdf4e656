"""The regional agent: a TUF client (python-tuf) that applies its region's bundle and routes
records at ingestion.

Standalone: the standard library, ``python-tuf`` and ``securesystemslib``. Nothing here may
import Django or the control plane.
"""

__version__ = "0.2.0"
