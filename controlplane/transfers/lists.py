"""The transfer list pages that have exports: the rows each shows, its FilterSet, its defaults.

The page and its CSV/JSON exports both read these (``controlplane.web.lists.Listing``).
"""

from controlplane.transfers import selectors
from controlplane.transfers.filtersets import (
    MechanismFilterSet,
    TransferRecordFilterSet,
    TransferRequestFilterSet,
)
from controlplane.transfers.models import TransferStatus
from controlplane.web.lists import Listing

# The queue: requests in the regions the person decides for, the submitted ones unless the
# query string asks for another status (or "all").
REGISTER = Listing(
    TransferRequestFilterSet, selectors.dpo_queue, defaults={"status": TransferStatus.SUBMITTED}
)
MECHANISMS = Listing(MechanismFilterSet, selectors.mechanisms)
TRANSFER_LOG = Listing(TransferRecordFilterSet, selectors.transfer_log)
