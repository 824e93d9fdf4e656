"""Transfer register: mechanisms, transfer requests, the policy engine, approvals, transfer log."""
