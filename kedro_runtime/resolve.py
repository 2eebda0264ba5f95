"""Per-run resolution: a run's parameters and the catalog config its params change.

Each function takes the session's built :class:`~kedro_runtime.project.Project`
and the run's nested ``runtime_params``, and resolves only what those params
change, from the config parsed once at build time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kedro.framework.project import settings
from kedro.io import DataCatalog
from kedro.io.catalog_config_resolver import CatalogConfigResolver
from kedro.io.core import DatasetNotFoundError
from kedro.pipeline import Pipeline
from kedro.validation.parameter_validator import ParameterValidator
from omegaconf.errors import InterpolationResolutionError

from . import _kedro_private as private
from . import typos
from .catalog import SharedValue, override_catalog
from .errors import (
    SettingsTypeError,
    UntrustedLoadVersionsError,
    UntrustedParamsError,
)
from .options import SessionOptions
from .param_reads import split_read
from .parameters import deep_merge, param_datasets, touched_variables
from .project import Project
from .untrusted import (
    ALLOWLIST_SETTING,
    LOAD_VERSIONS_SETTING,
    check_untrusted_params,
)


def check_run_params(
    project: Project, run_params: Mapping[str, Any], options: SessionOptions
) -> None:
    """Check a run's runtime params against the project and the session's options.

    Args:
        project: The session's built project.
        run_params: The run's runtime params, nested.
        options: The session's options (strict and untrusted modes).

    Raises:
        UntrustedParamsError: If the session is untrusted and a param breaks
            its rules (see ``untrusted.py``); checked first.
        UnreadRuntimeParamsError: If the session is strict and a param is
            read by nothing, or goes on inside a parameter that is not a
            mapping (otherwise a warning is logged).
    """
    # The untrusted rules first: a hostile value is refused as such, whatever
    # else is wrong with the request.
    if options.untrusted_runtime_params and run_params:
        check_untrusted_params(
            run_params,
            project.config_runtime_params,
            settings.get(ALLOWLIST_SETTING, ()),
        )
    typos.check_read(
        project.readable_params,
        run_params,
        strict=options.strict_runtime_params,
        params=project.params,
    )


def check_params_for_catalog(
    project: Project,
    run_params: Mapping[str, Any],
    create_params: Mapping[str, Any],
    options: SessionOptions,
) -> None:
    """Check runtime params as a run would, catalog config included, without one.

    Args:
        project: The session's built project.
        run_params: The runtime params, nested.
        create_params: The session's runtime params.
        options: The session's options.

    Raises:
        RuntimeParamsError: What :func:`check_run_params` raises, or an
            ``UntrustedParamsError`` if the session is untrusted and a param
            would select a dataset ``type``.
    """
    check_run_params(project, run_params, options)
    catalog_config_overrides(
        project,
        dict(run_params),
        create_params,
        type(project.catalog),
        untrusted=options.untrusted_runtime_params,
    )


def check_load_versions(
    project: Project, load_versions: Mapping[str, str] | None, *, untrusted: bool
) -> None:
    """Refuse ``load_versions`` that name a dataset the catalog does not have,
    or any, from an untrusted caller, unless the project allows it.

    Raises:
        UntrustedLoadVersionsError: If ``untrusted`` and ``load_versions`` is
            not empty, and ``settings.ALLOW_UNTRUSTED_LOAD_VERSIONS`` is not
            ``True``.
        SettingsTypeError: If that setting is not a bool.
        DatasetNotFoundError: Kedro's error, naming the missing datasets.
    """
    if untrusted and load_versions:
        allowed = settings.get(LOAD_VERSIONS_SETTING, False)
        if not isinstance(allowed, bool):
            raise SettingsTypeError(
                f"{LOAD_VERSIONS_SETTING} in settings.py must be True or False, "
                f"got {type(allowed).__name__}."
            )
        if not allowed:
            raise UntrustedLoadVersionsError(
                f"`load_versions` is not accepted from untrusted callers: a "
                f"saved version is not private to the caller whose run saved it, "
                f"so loading one could read another caller's results. A project "
                f"that wants it sets {LOAD_VERSIONS_SETTING} = True in settings.py."
            )
    missing = sorted(n for n in load_versions or {} if n not in project.catalog)
    if missing:
        raise DatasetNotFoundError(
            f"'load_versions' keys [{', '.join(missing)}] are not found in the catalog."
        )


@dataclass(frozen=True)
class RunLayer:
    """What a run's catalog layer holds over the base, resolved for the run.

    Attributes:
        overrides: Dataset name to the run's parameter values and injected
            datasets.
        lazy: The run's configs of entries that read its runtime params.
        patterns: The run's configs of factory patterns that read them.
        catalog_class: The class of the run's catalog.
    """

    overrides: dict[str, Any]
    lazy: dict[str, Any]
    patterns: dict[str, Any]
    catalog_class: type[DataCatalog]

    @classmethod
    def of(
        cls,
        project: Project,
        names: list[str],
        run_params: dict[str, Any],
        create_params: Mapping[str, Any],
        catalog_class: type[DataCatalog],
        data: Mapping[str, Any],
        *,
        untrusted: bool,
        pipeline: Callable[[str], Pipeline],
    ) -> RunLayer:
        """Resolve what a run's runtime params and data change.

        Args:
            project: The built project.
            names: The run's pipeline names.
            run_params: The run's nested runtime params.
            create_params: The session's runtime params.
            catalog_class: The class of the run's catalog.
            data: The run's injected datasets (they win over config).
            untrusted: See :func:`catalog_config_overrides`.
            pipeline: Gives a registered pipeline by name.

        Returns:
            The layer.
        """
        table = param_table(project, names, run_params, create_params, pipeline)
        lazy, patterns = catalog_config_overrides(
            project, run_params, create_params, catalog_class, untrusted=untrusted
        )
        for name in data:
            lazy.pop(name, None)
        return cls({**table, **data}, lazy, patterns, catalog_class)

    def catalog(
        self,
        project: Project,
        pipe: Pipeline,
        version: str,
        load_versions: Mapping[str, str] | None,
        only_missing_outputs: bool,
    ) -> DataCatalog:
        """The run's catalog: this layer over the base, saving as ``version``.

        Args:
            project: The built project.
            pipe: The pipeline the run runs.
            version: The save version of the run's outputs (see
                :func:`kedro_runtime.run_id.save_version`).
            load_versions: The run's ``load_versions``.
            only_missing_outputs: The run's flag (outputs then keep the
                versions they have).

        Returns:
            The catalog the runner gets.
        """
        versions = (
            {} if only_missing_outputs else dict.fromkeys(pipe.all_outputs(), version)
        )
        versions.update(load_versions or {})
        return override_catalog(
            project.catalog,
            self.overrides,
            save_version=version,
            load_versions=versions,
            catalog_class=self.catalog_class,
            lazy_overrides=self.lazy,
            pattern_overrides=self.patterns,
        )


def param_table(
    project: Project,
    names: list[str],
    run_params: dict[str, Any],
    create_params: Mapping[str, Any],
    pipeline: Callable[[str], Pipeline],
) -> dict[str, SharedValue]:
    """The ``params:`` entries of a run; reused for the same runtime params.

    Reuse is safe when resolving again would give the same values: no
    runtime params, or a parameters config whose interpolations are plain
    lookups (see ``interpolations_are_pure``).

    Args:
        project: The built project.
        names: The run's pipeline names.
        run_params: The run's nested runtime params.
        create_params: The session's runtime params (from ``create``).
        pipeline: Gives a registered pipeline by name (for validation).

    Returns:
        Dataset name (``parameters``, ``params:...``) to its shared value.
    """

    def make() -> dict[str, SharedValue]:
        params = resolve_params(project, run_params, create_params)
        return {
            name: SharedValue(value)
            for name, value in param_datasets(
                _validate_params(project, names, params, pipeline)
            ).items()
        }

    key = _cache_key(names, run_params)
    if key is None or (run_params and not project.params_pure):
        return make()
    return project.param_tables.get_or_make(key, make)


def resolve_params(
    project: Project, run_params: dict[str, Any], create_params: Mapping[str, Any]
) -> dict[str, Any]:
    """The parameters of a run, resolved again only if the config interpolates.

    Only the params an interpolation may read go through OmegaConf (under
    ``CONFIG_LOCK``); the others are merged into the result in plain Python,
    outside the lock (see :func:`~kedro_runtime.param_reads.split_read`).

    Args:
        project: The built project.
        run_params: The run's nested runtime params.
        create_params: The session's runtime params.

    Returns:
        The run's parameters (not validated).
    """
    if not run_params:
        return project.params
    raw = project.raw["parameters"]
    if not (project.params_interpolated and raw):
        return deep_merge(project.params, run_params)
    read, unread = split_read(run_params, project.params_reads, project.params)
    if not read and project.params_pure:
        return deep_merge(project.params, unread)
    resolved = private.resolve_raw_config(
        project.context.config_loader,
        "parameters",
        raw,
        deep_merge(create_params, read),
    )
    return deep_merge(resolved, unread)


def _validate_params(
    project: Project,
    names: list[str],
    params: dict[str, Any],
    pipeline: Callable[[str], Pipeline],
) -> dict[str, Any]:

    def make() -> ParameterValidator | None:
        validator = ParameterValidator({name: pipeline(name) for name in names})
        typed = validator.type_extractor.extract_types_from_pipelines()
        return validator if typed else None

    known = project.validators.get_or_make(tuple(names), make)
    return known.validate_raw_params(params) if known else params


def catalog_config_overrides(
    project: Project,
    run_params: dict[str, Any],
    create_params: Mapping[str, Any],
    catalog_class: type[DataCatalog],
    *,
    untrusted: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Entries and patterns that read ``${runtime_params:...}``, for this run.

    Nothing to do unless the run's params touch a runtime param that catalog
    or credentials config reads: the base was resolved with the rest.

    Args:
        project: The built project.
        run_params: The run's nested runtime params.
        create_params: The session's runtime params.
        catalog_class: The class of the run's catalog (for its default
            runtime patterns).
        untrusted: Refuse a runtime param that selects a dataset ``type``.

    Returns:
        The run's resolved entry configs and its factory pattern configs.
    """
    raw_catalog = project.raw["catalog"]
    if (
        not project.catalog_runtime_keys
        or raw_catalog is None
        or not touched_variables(run_params, project.config_runtime_params)
    ):
        return {}, {}
    loader = project.context.config_loader
    # Only the params catalog and credentials config read go to OmegaConf.
    effective, _ = split_read(
        deep_merge(create_params, run_params), project.config_runtime_params
    )
    try:
        conf = private.resolve_raw_config(
            loader, "catalog", raw_catalog, effective, restrict_type_selection=untrusted
        )
    except InterpolationResolutionError as exc:
        if not untrusted:
            raise
        touched = sorted(touched_variables(run_params, project.config_runtime_params))
        raise UntrustedParamsError(
            f"The runtime params {touched} cannot be used: resolving the catalog "
            f"with them failed. {exc}"
        ) from exc
    raw_creds = project.raw["credentials"]
    creds = (
        private.resolve_raw_config(loader, "credentials", raw_creds, effective)
        if raw_creds
        else {}
    )
    affected = {key: conf[key] for key in project.catalog_runtime_keys if key in conf}
    affected = private.absolute_paths(project.context.project_path, affected)
    resolver = CatalogConfigResolver(
        affected, creds, dict(catalog_class.default_runtime_patterns)
    )
    return dict(resolver.config), private.resolver_patterns(resolver)


def _cache_key(names: list[str], run_params: dict[str, Any]) -> tuple[str, ...] | None:
    """A key for the parameters of a run, or None when they cannot be keyed."""
    try:
        return (*names, json.dumps(run_params, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError):
        return None
