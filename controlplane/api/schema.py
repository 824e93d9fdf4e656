"""The OpenAPI schema view: generated once per process, not on every request.

The schema is the same for every caller (``SERVE_PUBLIC``: it lists every operation, and is
public, see docs/security.md), and generating it takes about a second: a page anyone may ask
for must not cost that each time.
"""

from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_generated: dict = {}


class SchemaView(SpectacularAPIView):
    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        if version not in _generated:
            response = super()._get_schema_response(request)
            _generated[version] = (response.data, response["Content-Disposition"])
        data, disposition = _generated[version]
        return Response(data=data, headers={"Content-Disposition": disposition})
