"""The platform's plugin configuration (the seed's config.yaml): resources, operations, hubs, workflows.

A built-in default makes `make up` need no file; `PLYNX_CONFIG` names a YAML file that replaces it.
Plugins are named by dotted class paths, so new resource types or hubs plug in without editing the core.
The seed's `executor` keys (operations, workflows) are accepted and ignored: here one runner runs every
operation kind and the Step Functions compiler every workflow.
"""
from __future__ import annotations

import copy
import functools
import importlib
import os
from typing import Any

import yaml

from .errors import BadRequestError

DEFAULT_CONFIG_YAML = """
storage:
  scheme: s3
  bucket: plynx-artifacts   # PLYNX_BUCKET wins
auth:
  secret_key:               # PLYNX_SECRET_KEY wins; empty: single-user (needs PLYNX_SINGLE_USER=true)
  registration: open        # open | approval | closed; PLYNX_REGISTRATION wins (deployed stages: closed)
  default_policies:         # a new account's policies; PLYNX_DEFAULT_POLICIES (comma-separated) wins
    [CAN_VIEW_OTHERS_OPERATIONS, CAN_VIEW_OTHERS_WORKFLOWS, CAN_VIEW_OPERATIONS, CAN_VIEW_WORKFLOWS,
     CAN_CREATE_OPERATIONS, CAN_CREATE_WORKFLOWS, CAN_RUN_WORKFLOWS]
runner:
  log_upload_seconds: 2
quotas:                        # per user, checked at APPROVE (a 400, or INVALID_VALUE on the parameter)
  concurrent_runs: 5           # runs going at once
  operations_per_graph: 1000   # operations of one graph, those inside composites counted
  lambda_timeout_seconds: 900  # an operation's _timeout on Lambda (Lambda's own limit: 15 minutes)
  fargate_timeout_seconds: 14400  # ... on Fargate: 4 hours
  retries: 5                   # an operation's _retries
  exempt_admins: true          # IS_ADMIN users (the single-user mode's `default`) are not capped
costs:                         # what GET /runs/{run_id} estimates a run cost with (its `cost`)
  lambda_memory_mb: 1024       # the runner Lambda's MemorySize (infra/cloudformation/plynx.yaml: 1024, prod 2048)
  fargate_vcpu: 1              # the runner task's size (plynx.yaml: Cpu 1024 = 1 vCPU, Memory 4096)
  fargate_memory_gb: 4
  # us-east-1 list prices (x86, Linux), as published Nov 2026: aws.amazon.com/lambda/pricing,
  # aws.amazon.com/fargate/pricing, aws.amazon.com/step-functions/pricing (Standard workflows)
  lambda_usd_per_gb_second: 0.0000166667
  lambda_usd_per_request: 0.0000002          # $0.20 per million requests
  fargate_usd_per_vcpu_hour: 0.04048
  fargate_usd_per_gb_hour: 0.004445
  stepfunctions_usd_per_1000_transitions: 0.025
limits:
  preview_bytes: 65536
  preview_rows: 100
  thumbnail_source_bytes: 20971520
  directory_max_bytes: 1073741824
  directory_max_files: 10000
  directory_max_ratio: 200
plugins:
  resources:
    - {kind: file, title: File, cls: chalicelib.resource_types.common.File, icon: feathericons.file, color: '#fff',
       description: 'Any file, handed to operations as is: every input of type `file` takes it.'}
    - {kind: pdf, title: PDF file, cls: chalicelib.resource_types.common.PDF, icon: plynx.pdf, color: '#fff',
       description: 'A PDF document; previewed embedded.'}
    - {kind: image, title: Image, cls: chalicelib.resource_types.common.Image, icon: plynx.image, color: '#fff',
       description: 'A picture (PNG, JPEG, GIF...); previewed as a thumbnail.'}
    - {kind: csv, title: CSV file, cls: chalicelib.resource_types.common.CSV, icon: plynx.csv, color: '#fff',
       description: 'A comma-separated table; previewed as a table.'}
    - {kind: tsv, title: TSV file, cls: chalicelib.resource_types.common.TSV, icon: plynx.tsv, color: '#fff',
       description: 'A tab-separated table; previewed as a table.'}
    - {kind: json, title: JSON file, cls: chalicelib.resource_types.common.Json, icon: plynx.json, color: '#fff',
       description: 'A JSON document, for operations that read JSON; previewed pretty-printed.'}
    - {kind: executable, title: Executable, cls: chalicelib.resource_types.common.Executable,
       icon: feathericons.play, color: '#fcff57',
       description: 'A program an operation runs; made executable when handed over.'}
    - {kind: directory, title: Directory, cls: chalicelib.resource_types.common.Directory,
       icon: feathericons.folder, color: '#f44',
       description: 'A folder, uploaded as a zip; unpacked for operations that take directories.'}
    - {kind: int, title: Integer, cls: chalicelib.resource_types.primitive.RawInt, icon: plynx.int, color: '#22a',
       description: 'A whole number, passed as a value, not a file.'}
    - {kind: float, title: Float, cls: chalicelib.resource_types.primitive.RawFloat, icon: plynx.float,
       color: '#2a2',
       description: 'A number, passed as a value, not a file.'}
    - {kind: str, title: String, cls: chalicelib.resource_types.primitive.RawStr, icon: plynx.str, color: '#a22',
       description: 'A text value, passed as a value, not a file.'}
    - {kind: bool, title: Boolean, cls: chalicelib.resource_types.primitive.RawBool, icon: plynx.bool,
       color: '#aa2',
       description: 'True or false, passed as a value, not a file.'}
    - {kind: color, title: Color, cls: chalicelib.resource_types.primitive.RawColor, icon: plynx.color,
       color: '#a2a',
       description: 'A colour value (#rrggbb), passed as a value.'}
    - {kind: dict, title: Dictionary, cls: chalicelib.resource_types.primitive.RawDict, icon: plynx.dict,
       color: '#2aa',
       description: 'A JSON object, passed as a value.'}
    - {kind: enum, title: Enum value, cls: chalicelib.resource_types.primitive.RawEnum, icon: plynx.enum,
       color: '#a62',
       description: 'One value of a list of choices, passed as a value.'}
    - {kind: list_str, title: List of strings, cls: chalicelib.resource_types.primitive.RawListStr,
       icon: plynx.list, color: '#26a',
       description: 'A list of text values, passed as a value.'}
    - {kind: list_int, title: List of ints, cls: chalicelib.resource_types.primitive.RawListInt,
       icon: plynx.list, color: '#62a',
       description: 'A list of whole numbers, passed as a value.'}
  operations:
    - kind: python
      title: Python
      resources: [file, pdf, image, csv, tsv, json, executable, directory, int, float, str, bool, color, dict,
                  enum, list_str, list_int]
    - kind: bash_jinja2
      title: BashJinja2
      resources: [file, pdf, image, csv, tsv, json, executable, directory, int, float, str, bool, color, dict,
                  enum, list_str, list_int]
  hubs:
    - kind: db-hub
      title: Database hub
      icon: feathericons.database
      cls: chalicelib.hubs.database.DatabaseHub
      args: {}
    - kind: demo-hub
      title: Demo operations
      icon: feathericons.box
      cls: chalicelib.hubs.static_list.StaticListHub
      args:
        list_module: plynx.demo.COLLECTION
  workflows:
    - kind: basic-dag-workflow
      title: Basic DAG Workflow
      hubs: [db-hub, demo-hub]
"""

_SECTIONS = ("resources", "operations", "hubs", "workflows")


class ConfigError(ValueError):
    """The configuration file is malformed; raised at start-up, never at request time."""


def _check(config: Any, source: str) -> dict:
    if not isinstance(config, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping")
    plugins = config.setdefault("plugins", {})
    if not isinstance(plugins, dict):
        raise ConfigError(f"{source}: `plugins` must be a mapping")
    for section in _SECTIONS:
        items = plugins.setdefault(section, [])
        if not isinstance(items, list):
            raise ConfigError(f"{source}: `plugins.{section}` must be a list")
        kinds = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
                raise ConfigError(f"{source}: `plugins.{section}[{i}]` needs a string `kind`")
            kinds.append(item["kind"])
        if len(set(kinds)) != len(kinds):
            raise ConfigError(f"{source}: `plugins.{section}` has duplicate kinds")
    return config


def _merge_plugins(base: list, override: list) -> list:
    """A plugin of a known kind replaces the built-in one; a new kind is added after them."""
    merged = [copy.deepcopy(item) for item in base]
    index = {item.get("kind"): i for i, item in enumerate(merged) if isinstance(item, dict)}
    for item in override:
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind in index:
            merged[index[kind]] = item
        else:
            merged.append(item)
    return merged


def _merge(base: dict, override: dict) -> dict:
    """Mappings merge key by key, plugin lists by kind (unless `replace_plugins: true`); scalars replace."""
    merged = copy.deepcopy(base)
    replace = bool(override.get("replace_plugins"))
    for key, value in override.items():
        if key == "plugins" and isinstance(value, dict) and not replace:
            plugins_ = merged.setdefault("plugins", {})
            for section, items in value.items():
                if isinstance(items, list) and isinstance(plugins_.get(section), list):
                    plugins_[section] = _merge_plugins(plugins_[section], items)
                else:
                    plugins_[section] = items
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@functools.cache
def get_config() -> dict:
    """The configuration: the built-in default, overlaid by the YAML file at $PLYNX_CONFIG if set."""
    config = yaml.safe_load(DEFAULT_CONFIG_YAML)
    path = os.environ.get("PLYNX_CONFIG")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                override = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"Cannot read PLYNX_CONFIG `{path}`: {exc}") from exc
        if not isinstance(override, dict):
            raise ConfigError(f"{path}: the configuration must be a mapping")
        config = _merge(config, override)
    return _check(config, path or "built-in config")


def reload() -> dict:
    """Forget the cached configuration (tests that swap PLYNX_CONFIG) and read it again."""
    get_config.cache_clear()
    for cached in (load_class,):
        cached.cache_clear()
    return get_config()


def plugins(section: str) -> list[dict]:
    """One plugin list of the configuration (resources, operations, hubs, workflows)."""
    return get_config()["plugins"][section]


def limit(name: str) -> int:
    """A numeric limit (preview size, unzip caps, ...) from the `limits` section."""
    return int(get_config().get("limits", {})[name])


def setting(section: str, name: str, default: Any = None) -> Any:
    """A value of a top-level section, e.g. setting('runner', 'log_upload_seconds')."""
    value = get_config().get(section) or {}
    return value.get(name, default) if isinstance(value, dict) else default


@functools.cache
def load_class(path: str) -> Any:
    """The object a dotted path names (`package.module.Name`), imported on first use."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name:
        raise ConfigError(f"`{path}` is not a dotted path to a class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"Cannot import `{module_name}` for `{path}`: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ConfigError(f"`{module_name}` has no `{attribute}`") from exc


def find(section: str, kind: str) -> dict:
    """The plugin entry of a kind, or a 400 that lists the known kinds."""
    for item in plugins(section):
        if item["kind"] == kind:
            return item
    known = sorted(item["kind"] for item in plugins(section))
    raise BadRequestError(f"Unknown {section[:-1]} kind `{kind}`; known: {known}")
