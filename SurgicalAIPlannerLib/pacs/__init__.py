"""Hospital PACS exchange over DICOMweb: search (QIDO-RS), atomic pull (WADO-RS), checked push (STOW-RS)."""

from .client import PacsClient, SeriesSummary, StudySummary
from .credentials import Credentials, CredentialsError, load_credentials
from .pull import PullResult, pull
from .push import PushInputError, PushResult, push
from .remote import RemoteError, RetryPolicy

__all__ = [
    "Credentials", "CredentialsError", "PacsClient", "PullResult", "PushInputError", "PushResult", "RemoteError",
    "RetryPolicy", "SeriesSummary", "StudySummary", "load_credentials", "pull", "push",
]
