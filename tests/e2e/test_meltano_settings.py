"""meltano.yml mirrors each plugin's `--about --format=json` one-to-one (style guide, section 7).

No Meltano needed: the YAML is read as data. For every custom plugin of this repository the
`settings:` list has exactly the plugin's settings, each with the kind its JSON schema implies
(secrets `kind: password` + `sensitive: true`, enums `options`, date-times `date_iso8601`), the
same default (`value`) and the same description; `capabilities` are the plugin's. A failure
names what differs; `python -m tests.e2e.test_meltano_settings` rewrites the `settings:` and
`capabilities:` blocks of meltano.yml from the plugins' --about (comments and everything else
stay). Inherited plugins and environments only set known settings, and no credential is
committed except the emulator's public demo token.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_zendesk.streams import STREAM_TYPES
from tests.e2e.conftest import REPO
from tests.emulator import EmulatorConfig

OWN_PLUGINS = {"tap-zendesk": "extractors", "target-zendesk": "loaders"}
ENV_REF = re.compile(r"^\$(\{\w+\}|\w+)$")
_KINDS = {"string": "string", "integer": "integer", "number": "decimal", "boolean": "boolean",
          "object": "object", "array": "array"}


@cache
def meltano_yml() -> dict[str, Any]:
    return yaml.safe_load((REPO / "meltano.yml").read_text())


@cache
def about(plugin: str) -> dict[str, Any]:
    script = Path(sys.executable).parent / plugin
    module = plugin.replace("-", "_")
    cls = {"tap-zendesk": "tap.TapZendesk", "target-zendesk": "target.TargetZendesk"}[plugin]
    cmd = ([str(script)] if script.exists() else
           [sys.executable, "-c", f"from {module}.{cls.split('.')[0]} import "
            f"{cls.split('.')[1]} as P; P.cli()"])
    proc = subprocess.run([*cmd, "--about", "--format=json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"{plugin} --about failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def plugins(kind: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in meltano_yml()["plugins"][kind]}


def expected_kind(prop: dict[str, Any]) -> str:
    types = prop.get("type", [])
    types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    if prop.get("secret"):
        return "password"
    if "enum" in prop:
        return "options"
    first = types[0] if types else "string"
    if first == "string" and prop.get("format") == "date-time":
        return "date_iso8601"
    return _KINDS[first]


def expected_setting(name: str, prop: dict[str, Any]) -> dict[str, Any]:
    """The meltano.yml entry for one JSON-schema property (label aside)."""
    entry: dict[str, Any] = {"name": name, "kind": expected_kind(prop)}
    if prop.get("secret"):
        entry["sensitive"] = True
    if "enum" in prop:
        entry["options"] = [{"label": v, "value": v} for v in prop["enum"]]
    if prop.get("default") is not None:
        entry["value"] = prop["default"]
    entry["description"] = prop.get("description", "")
    return entry


def yaml_block(entries: list[dict[str, Any]]) -> str:
    text = yaml.safe_dump(entries, sort_keys=False, width=10_000, allow_unicode=True)
    return "\n".join("        " + line for line in text.splitlines())


LABELS = {"api_token": "API Token", "oauth_token": "OAuth Token", "api_url": "API URL",
          "client_id": "OAuth Client ID", "client_secret": "OAuth Client Secret",
          "refresh_token": "OAuth Refresh Token", "json_fields": "JSON Fields"}
FIX = "Run `.venv/bin/python -m tests.e2e.test_meltano_settings` to rewrite them from --about."


def render_settings(name: str) -> str:
    """meltano.yml's `settings:` entries for a plugin, from its --about (8-space indent)."""
    lines = []
    for key, prop in about(name)["settings"]["properties"].items():
        entry = expected_setting(key, prop)
        label = LABELS.get(key) or prop.get("title") or key.replace("_", " ").title()
        lines += [f"        - name: {key}", f"          label: {label}",
                  f"          kind: {entry['kind']}"]
        if entry.get("sensitive"):
            lines.append("          sensitive: true")
        if "options" in entry:
            lines.append("          options:")
            lines += [f"            - {{label: {o['value']}, value: {o['value']}}}"
                      for o in entry["options"]]
        if "value" in entry:
            lines.append(f"          value: {json.dumps(entry['value'])}")
        lines.append(f"          description: {json.dumps(entry['description'])}")
    return "\n".join(lines) + "\n"


def sync_meltano_yml(text: str) -> str:
    """meltano.yml text with each own plugin's settings and capabilities taken from --about."""
    for name in OWN_PLUGINS:
        head = rf"(\n    - name: {re.escape(name)}\n(?:      .*\n)*?      {{block}}:\n)"
        caps = "".join(f"        - {c}\n" for c in about(name)["capabilities"])
        for block, body in (("capabilities", caps), ("settings", render_settings(name))):
            pattern = re.compile(head.format(block=block) + r"(?:        .*\n)+")
            text, count = pattern.subn(lambda m, b=body: m.group(1) + b, text, count=1)
            assert count == 1, f"no `{block}:` block under `- name: {name}` in meltano.yml"
    return text


def test_sync_keeps_a_synced_file_as_it_is() -> None:
    text = (REPO / "meltano.yml").read_text()
    synced = sync_meltano_yml(text)
    assert yaml.safe_load(synced)["plugins"].keys() == meltano_yml()["plugins"].keys()
    assert sync_meltano_yml(synced) == synced


@pytest.mark.parametrize("name", sorted(OWN_PLUGINS))
def test_settings_mirror_about_one_to_one(name: str) -> None:
    plugin = plugins(OWN_PLUGINS[name])[name]
    props = about(name)["settings"]["properties"]
    declared = [s["name"] for s in plugin["settings"]]
    assert len(declared) == len(set(declared)), f"duplicate settings in {name}"
    missing = [k for k in props if k not in declared]
    extra = [k for k in declared if k not in props]
    assert not missing and not extra, (
        f"{name}: meltano.yml settings differ from --about: missing {missing}, extra {extra}.\n"
        f"{FIX}\nOr add under plugins.{OWN_PLUGINS[name]}[{name}].settings:\n"
        + yaml_block([expected_setting(k, props[k]) for k in missing]))
    wrong = []
    for setting in plugin["settings"]:
        want = expected_setting(setting["name"], props[setting["name"]])
        got = {k: setting.get(k) for k in want}
        if setting.get("kind") == "password" or want.get("sensitive"):
            got["sensitive"] = setting.get("sensitive")
        if "value" not in want and "value" in setting:
            got["value"] = setting["value"]
        if got != want or not setting.get("label"):
            wrong.append(want)
    assert not wrong, (
        f"{name}: settings out of sync with --about (kind, sensitive, options, value, "
        f"description or a missing label). {FIX} Expected:\n" + yaml_block(wrong))


@pytest.mark.parametrize("name", sorted(OWN_PLUGINS))
def test_custom_plugin_declaration(name: str) -> None:
    plugin = plugins(OWN_PLUGINS[name])[name]
    assert "variant" not in plugin, "custom plugins need no Meltano Hub variant"
    assert plugin["namespace"] == name.replace("-", "_")
    assert plugin["pip_url"] == "-e ."
    assert plugin["executable"] == name
    assert sorted(plugin["capabilities"]) == sorted(about(name)["capabilities"]), FIX
    secrets = {k for k, p in about(name)["settings"]["properties"].items() if p.get("secret")}
    assert secrets >= {"api_token", "oauth_token"}


def test_target_jsonl_is_a_custom_plugin_from_the_registry() -> None:
    plugin = plugins("loaders")["target-jsonl"]
    assert "variant" not in plugin and plugin["namespace"] == "target_jsonl"
    assert re.fullmatch(r"target-jsonl(==[\d.]+)?", plugin["pip_url"])
    declared = {s["name"] for s in plugin["settings"]}
    assert set(plugin.get("config", {})) <= declared


def test_inherited_plugins_only_set_known_settings_and_select_real_streams() -> None:
    streams = {cls.name for cls in STREAM_TYPES}
    extractors = plugins("extractors")
    tap_settings = {s["name"] for s in extractors["tap-zendesk"]["settings"]}
    inherited = {n: p for n, p in extractors.items() if "inherit_from" in p}
    assert {"tap-zendesk--global", "tap-zendesk--usgov", "tap-zendesk--feedback",
            "tap-zendesk--pii-safe"} <= set(inherited)
    for name, plugin in {**inherited, "tap-zendesk": extractors["tap-zendesk"]}.items():
        assert plugin.get("inherit_from", "tap-zendesk") == "tap-zendesk"
        assert not {"settings", "pip_url", "variant", "namespace"} & set(plugin) or (
            name == "tap-zendesk")
        assert set(plugin.get("config", {})) <= tap_settings, name
        for pattern in plugin.get("select", []):
            assert pattern.split(".")[0].lstrip("!") in streams, f"{name}: {pattern}"
        for stream in plugin.get("config", {}).get("stream_maps", {}):
            source = plugin["config"]["stream_maps"][stream]
            origin = source.get("__source__", stream) if isinstance(source, dict) else stream
            assert origin == "__else__" or origin in streams, f"{name}: {stream}"


def test_feedback_map_reads_fields_the_tickets_stream_has() -> None:
    schema = json.loads((REPO / "tap_zendesk/schemas/tickets.json").read_text())["properties"]
    feedback = plugins("extractors")["tap-zendesk--feedback"]["config"]["stream_maps"]["feedback"]
    assert feedback["__source__"] == "tickets"
    fields = {"source_id": "id", "title": "subject", "content": "description",
              "customer_id": "requester_id", "category": "tags"}
    for out, src in fields.items():
        assert feedback[out] == src and src in schema
    assert "priority" in feedback["severity"] and "priority" in schema


def _config_blocks() -> list[tuple[str, str, dict[str, Any]]]:
    """(environment or '', plugin name, config) for every config block in meltano.yml."""
    blocks = []
    for kind in ("extractors", "loaders"):
        for plugin in meltano_yml()["plugins"][kind]:
            blocks.append(("", plugin["name"], plugin.get("config") or {}))
    for env in meltano_yml()["environments"]:
        for entries in ((env.get("config") or {}).get("plugins") or {}).values():
            for plugin in entries:
                blocks.append((env["name"], plugin["name"], plugin.get("config") or {}))
    return blocks


def test_environments_set_only_known_settings() -> None:
    extractors, loaders = plugins("extractors"), plugins("loaders")
    every = {**extractors, **loaders}

    def settings_of(name: str) -> set[str]:
        plugin = every[name]
        base = every[plugin.get("inherit_from", name)]
        return {s["name"] for s in base["settings"]}

    names = {e["name"] for e in meltano_yml()["environments"]}
    assert {"prod", "emulator"} <= names
    assert meltano_yml()["default_environment"] == "prod"
    for env, name, config in _config_blocks():
        assert set(config) <= settings_of(name), (env, name)


def test_no_secret_is_committed() -> None:
    every = {**plugins("extractors"), **plugins("loaders")}
    demo_token = EmulatorConfig().api_token
    for env, name, config in _config_blocks():
        base = every[every[name].get("inherit_from", name)]
        secret = {s["name"] for s in base["settings"] if s.get("kind") == "password"}
        for key in secret & set(config):
            value = str(config[key])
            ok = ENV_REF.match(value) or (env == "emulator" and value == demo_token)
            assert ok, f"{env or 'base'}:{name}.{key} holds a literal secret; use $VARIABLE"
    assert meltano_yml()["send_anonymous_usage_stats"] is False


if __name__ == "__main__":
    path = REPO / "meltano.yml"
    before = path.read_text()
    after = sync_meltano_yml(before)
    path.write_text(after)
    print(f"{path}: {'updated' if after != before else 'already in sync'}")
