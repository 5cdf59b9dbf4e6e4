"""What several commands need before they start: variables that must be set, and the
definitions directory, each refused in the same words wherever it is missing."""

from __future__ import annotations

from pathlib import Path

from activity_core.commands.errors import FileProblem, UsageError
from activity_core.definitions.base import CallCeilings
from activity_core.definitions.loader import LoadedDefinition, load_all
from activity_core.settings import Settings


def require(settings: Settings, *names: str) -> None:
    """Raise ``UsageError`` naming every variable of ``names`` that is unset."""
    values = {
        "DATABASE_URL": settings.database_dsn(),
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "STATE_HUB_URL": settings.state_hub_url,
    }
    missing = [name for name in names if not values[name]]
    if missing:
        listed = _joined(missing)
        raise UsageError(
            f"{listed} {'is' if len(missing) == 1 else 'are'} not set",
            f"set {listed} (the README's settings table explains each variable)",
        )


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def definitions_directory(directory: Path) -> Path:
    """``directory``, refused when it is not one: an empty result from a mistyped path would
    read as "every definition was removed" (and `schedules sync` would pause them all)."""
    if not directory.is_dir():
        raise FileProblem(
            f"the definitions directory {directory} does not exist or is not a directory",
            "set ACTIVITY_CORE_DEFINITIONS_DIR (or --dir) to the directory holding the *.yaml definitions",
        )
    return directory


def load_definitions(settings: Settings, directory: Path | None = None) -> dict[str, LoadedDefinition]:
    """Every definition, refused where it asks more of a call than the deployment allows."""
    ceilings = CallCeilings(
        llm_call_seconds=settings.llm_connect_timeout_seconds,
        state_hub_call_seconds=settings.state_hub_timeout_seconds,
    )
    return load_all(definitions_directory(directory or settings.definitions_dir), ceilings)
