"""The model-registry list pages that have exports: rows, FilterSet, defaults (see
``controlplane.web.lists.Listing``); the page and its exports both read these."""

from controlplane.modelregistry import selectors
from controlplane.modelregistry.filtersets import DeploymentFilterSet
from controlplane.modelregistry.models import DeploymentStatus
from controlplane.web.lists import Listing

# The deployment queue: the requested ones unless the query string asks for another status.
DEPLOYMENT_QUEUE = Listing(
    DeploymentFilterSet,
    lambda user: selectors.deployment_queue(user, status=None),
    defaults={"status": DeploymentStatus.REQUESTED},
)
