from tests.transfers.conftest import fast_password_hashing, mechanisms, new_request, world  # noqa: F401
