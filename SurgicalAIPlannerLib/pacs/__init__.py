"""Hospital PACS exchange over DICOMweb: search (QIDO-RS), atomic pull (WADO-RS), checked push (STOW-RS)."""

from .client import ENV_PREFIX, PacsClient, connect_pacs, SeriesSummary, StudySummary
from .credentials import Credentials, CredentialsError, load_credentials
from .pull import PullResult, pull
from .push import PushInputError, PushResult, push
from .remote import RemoteError, RetryPolicy

__all__ = [
    "ENV_PREFIX", "Credentials", "CredentialsError", "PacsClient", "PullResult", "PushInputError", "PushResult", "RemoteError",
    "RetryPolicy", "SeriesSummary", "StudySummary", "connect_pacs", "load_credentials", "pull", "push",
]
