"""Typed async clients for the two services activity-core speaks HTTP to.

Only this package speaks HTTP. Each client makes exactly one attempt per call (Temporal's
activity retry policy owns retries) and raises its own error tree, every error carrying
``failure_class`` and ``retryable``.
"""

from activity_core.clients._http import ServiceError
from activity_core.clients.llm_connect import (
    LlmConnectApi,
    LlmConnectClient,
    LlmConnectConfigurationError,
    LlmConnectContractError,
    LlmConnectError,
    LlmConnectProviderError,
    LlmConnectTimeout,
    LlmConnectTransportError,
    LlmResponse,
    RunConfig,
)
from activity_core.clients.state_hub import (
    Note,
    NoteRecord,
    ProgressEvent,
    ProgressEventRecord,
    StateHubApi,
    StateHubAuthError,
    StateHubClient,
    StateHubContractError,
    StateHubError,
    StateHubHTTPError,
    StateHubTimeout,
    StateHubTransportError,
    Task,
    Workstream,
)

__all__ = [
    "LlmConnectApi",
    "LlmConnectClient",
    "LlmConnectConfigurationError",
    "LlmConnectContractError",
    "LlmConnectError",
    "LlmConnectProviderError",
    "LlmConnectTimeout",
    "LlmConnectTransportError",
    "LlmResponse",
    "Note",
    "NoteRecord",
    "ProgressEvent",
    "ProgressEventRecord",
    "RunConfig",
    "ServiceError",
    "StateHubApi",
    "StateHubAuthError",
    "StateHubClient",
    "StateHubContractError",
    "StateHubError",
    "StateHubHTTPError",
    "StateHubTimeout",
    "StateHubTransportError",
    "Task",
    "Workstream",
]
