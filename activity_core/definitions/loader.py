"""Activity definitions: the YAML files in ``definitions/``, loaded and validated by kind.

The ``kind`` field selects the pydantic model (through the kind registry); the models are the
source of truth and ``schemas/activity-definition.schema.json`` is generated from them. A
broken definition is refused at load time with the file, the field and what is wrong, because
the worker must never start with (or a schedule fire into) a definition it cannot run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from activity_core.definitions.base import CallCeilings, DefinitionBase
from activity_core.definitions.schedule import SCHEDULE_SHAPES

DEFINITION_SUFFIX = ".yaml"
SCHEMA_ID = "https://activity-core.custodian/schemas/activity-definition.schema.json"


class LoadedDefinition(BaseModel):
    """A validated definition with its companion files read in, ready to run."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    definition: DefinitionBase
    path: Path
    files: dict[str, str]


class DefinitionError(Exception):
    """A definition file that cannot be used; the message names the file, field and problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        joined = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: invalid activity definition\n{joined}")


class DefinitionNotFound(LookupError):
    def __init__(self, definition_id: str, directory: Path, known: list[str]) -> None:
        self.definition_id = definition_id
        known_text = ", ".join(known) or "none"
        super().__init__(
            f"no definition {definition_id!r} in {directory} (known: {known_text}); "
            f"set ACTIVITY_CORE_DEFINITIONS_DIR if your definitions live elsewhere"
        )


def _definition_models() -> Mapping[str, type[DefinitionBase]]:
    # Imported here: the registry imports the kinds, whose activities use this loader.
    from activity_core.kinds.registry import definition_models

    return definition_models()


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of a definition file (any kind), as committed in ``schemas/``."""
    models = _definition_models()
    variants = {name: model.model_json_schema(ref_template="#/$defs/{model}") for name, model in models.items()}
    defs: dict[str, Any] = {}
    one_of = []
    for name, schema in sorted(variants.items()):
        defs.update(schema.pop("$defs", {}))
        schema["properties"]["kind"] = {"const": name, "title": "Kind", "type": "string"}
        defs[schema["title"]] = schema
        one_of.append({"$ref": f"#/$defs/{schema['title']}"})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ActivityDefinition",
        "oneOf": one_of,
        "$defs": defs,
    }


def _field_path(loc: tuple[Any, ...]) -> str:
    """``schedule.hour``, not ``schedule.daily.hour``: the shape's tag is not a field."""
    return ".".join(str(part) for part in loc if part not in SCHEDULE_SHAPES) or "(top level)"


def parse_definition(path: Path, raw: object, ceilings: CallCeilings | None = None) -> LoadedDefinition:
    if not isinstance(raw, dict):
        raise DefinitionError(path, ["top level must be a mapping of fields"])
    models = _definition_models()
    kind = raw.get("kind")
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise DefinitionError(path, [f"kind: {kind!r} is not a known kind (known: {', '.join(sorted(models))})"])
    try:
        definition = model.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_field_path(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise DefinitionError(path, problems) from None
    if definition.id != path.stem:
        raise DefinitionError(path, [f"id: {definition.id!r} must match the file name {path.stem!r}"])
    files: dict[str, str] = {}
    for field, name in definition.companion_files().items():
        try:
            files[name] = (path.parent / name).read_text(encoding="utf-8")
        except OSError:
            raise DefinitionError(path, [f"{field}: {name} not found beside the definition"]) from None
    problems = definition.check_companions(files) + (definition.check_ceilings(ceilings) if ceilings else [])
    if problems:
        raise DefinitionError(path, problems)
    return LoadedDefinition(definition=definition, path=path, files=files)


def load_definition_file(path: Path, ceilings: CallCeilings | None = None) -> LoadedDefinition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(path, [f"cannot read file: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(path, [f"not valid YAML: {exc}"]) from exc
    return parse_definition(path, raw, ceilings)


def definition_paths(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob(f"*{DEFINITION_SUFFIX}") if p.is_file())


def load_all(directory: Path, ceilings: CallCeilings | None = None) -> dict[str, LoadedDefinition]:
    """Load every definition; raise on the first broken one (the worker refuses to start)."""
    loaded = (load_definition_file(path, ceilings) for path in definition_paths(directory))
    return {item.definition.id: item for item in loaded}


def load_definition(definition_id: str, directory: Path, ceilings: CallCeilings | None = None) -> LoadedDefinition:
    path = directory / f"{definition_id}{DEFINITION_SUFFIX}"
    if not path.is_file():
        raise DefinitionNotFound(definition_id, directory, [p.stem for p in definition_paths(directory)])
    return load_definition_file(path, ceilings)


class DefinitionCache:
    """Definitions parsed once and re-read only when the file or a companion file changes.

    Every activity of a run looks its definition up; without this each would re-read and
    re-validate the YAML. An edited definition is still picked up by the next lookup.
    """

    def __init__(self, directory: Path, ceilings: CallCeilings | None = None) -> None:
        self.directory = directory
        self._ceilings = ceilings
        self._loaded: dict[str, tuple[tuple[int, ...], LoadedDefinition]] = {}

    def get(self, definition_id: str) -> LoadedDefinition:
        cached = self._loaded.get(definition_id)
        if cached is not None and cached[0] == _stamp(cached[1]):
            return cached[1]
        loaded = load_definition(definition_id, self.directory, self._ceilings)
        self._loaded[definition_id] = (_stamp(loaded), loaded)
        return loaded


def _stamp(loaded: LoadedDefinition) -> tuple[int, ...]:
    paths = [loaded.path, *(loaded.path.parent / name for name in loaded.files)]
    try:
        return tuple(path.stat().st_mtime_ns for path in paths)
    except OSError:
        return (-1,)  # gone: load again, which names the problem


def write_schema(path: Path) -> None:
    path.write_text(json.dumps(definition_json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
