"""The regional agent: verifies and applies signed bundles and routes records at ingestion.

Standalone: standard library plus ``cryptography``. Nothing here may import Django.
"""

__version__ = "0.1.0"
