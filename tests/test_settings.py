"""Bad settings are refused by name before anything is read; meltano.yml agrees with the taps (issue 13).

Real tap processes (``tap-x --config cfg.json``) against their fake APIs,
and real ``meltano run``s with settings from the environment, as a user
would set them. A refused setting must name itself and the value it got
(never a secret's value), the run must exit non-zero, and the API must not
have been asked anything.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from tests import tap_runner
from tests.reliability.cases import API_TAPS
from tests.reliability.helpers import output
from tests.reliability.test_security import SECRET_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
TAPS = {t.name: t for t in API_TAPS}
#: Settings singer-sdk adds to every tap (capabilities), described in meltano.yml only.
SDK_SETTINGS = {"batch_config"}


def _config(tap, fake, **bad) -> dict:
    """The tap's ordinary settings against ``fake`` (JSON text decoded, as Meltano would), plus ``bad``."""
    config = {}
    for name, value in tap.settings(fake).items():
        if isinstance(value, str) and value[:1] in "[{":
            value = json.loads(value)
        config[name] = value
    return {**config, "backoff_base_ms": 5, **bad}


def _secrets(tap, fake) -> list[str]:
    return [str(v) for k, v in tap.settings(fake).items() if k in SECRET_SETTINGS] + tap.secrets(fake)


#: Per API tap, settings a user can get wrong, and how the refusal names each.
BAD = {
    "tap-garmin": {
        "lookback_days": ("abc", "must be a whole number (got 'abc')"),
        "start_date": ("2024-13-45", "must be a date (YYYY-MM-DD): month must be in 1..12 (got '2024-13-45')"),
        "activities_page_size": (0, "must be at least 1 (got 0)"),
        "request_timeout": (0, "must be more than 0 (got 0)"),
        "max_retries": (-1, "must be at least 0 (got -1)"),
    },
    "tap-toggl": {
        "max_requests_per_run": (0, "must be at least 1 (got 0)"),
        "backoff_base_ms": (-5, "must be at least 0 (got -5)"),
    },
    "tap-notion": {
        "requests_per_second": (0, "must be more than 0 (got 0)"),
        "backoff_max_seconds": (-1, "must be at least 0 (got -1)"),
    },
    "tap-airtable": {
        "rate_limit_wait_seconds": (-1, "must be at least 0 (got -1)"),
        "requests_per_second": ("fast", "must be a number (got 'fast')"),
    },
    "tap-openmeteo": {
        "chunk_days": (0, "must be at least 1 (got 0)"),
        "trailing_days": (-1, "must be at least 0 (got -1)"),
        "start_date": ("2024-02-30", "must be a date (YYYY-MM-DD): day is out of range for month (got '2024-02-30')"),
    },
    "tap-hidrate": {
        "page_size": (0, "must be at least 1 (got 0)"),
        "start_date": ("yesterday", "must be a date or time (ISO 8601)"),
    },
    "tap-hubspot": {
        "requests_per_second": (-3, "must be more than 0 (got -3)"),
        "request_timeout": ("1.5", "must be a whole number (got '1.5')"),
    },
}


def test_every_api_tap_has_bad_settings_checked():
    assert set(BAD) == set(TAPS)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_settings_are_named_and_nothing_is_read(tmp_path, name):
    tap = TAPS[name]
    with tap.make_fake() as fake:
        config = _config(tap, fake, **{k: v for k, (v, _) in BAD[name].items()})
        result, messages, _ = tap_runner.run_tap(name, config, tmp_path)
    text = output(result)
    assert result.returncode != 0, "a bad setting must stop the run"
    for setting, (_, says) in BAD[name].items():
        assert f"{name}: setting {setting}: {says}" in text, text[-3000:]
    assert fake.requests == [], "the API was asked although the settings are bad"
    assert not [m for m in messages if m["type"] == "RECORD"]
    for secret in _secrets(tap, fake):
        assert secret not in text


def test_a_page_size_over_parses_limit_is_refused(tmp_path):
    """Parse answers at most 1000 objects, so a short page would end the walk early: data lost."""
    tap = TAPS["tap-hidrate"]
    with tap.make_fake() as fake:
        result, _, _ = tap_runner.run_tap("tap-hidrate", _config(tap, fake, page_size=5000), tmp_path)
    assert result.returncode != 0
    assert "tap-hidrate: setting page_size: must be at most 1000 (got 5000)" in result.stderr


def test_a_secret_of_the_wrong_type_is_named_without_its_value(tmp_path):
    tap = TAPS["tap-toggl"]
    with tap.make_fake() as fake:
        result, _, _ = tap_runner.run_tap("tap-toggl", _config(tap, fake, api_token=987654321), tmp_path)
    assert result.returncode != 0
    assert "tap-toggl: setting api_token: must be text (the value is not shown: it is a secret)" in result.stderr
    assert "987654321" not in output(result)


def test_a_missing_required_setting_is_named(tmp_path):
    tap = TAPS["tap-airtable"]
    with tap.make_fake() as fake:
        config = _config(tap, fake)
        del config["base_id"]
        result, _, _ = tap_runner.run_tap("tap-airtable", config, tmp_path)
    assert result.returncode != 0
    assert "tap-airtable: setting base_id: required, but not set" in result.stderr
    assert fake.requests == []


def test_a_start_date_in_the_future_warns_and_the_run_goes_on(tmp_path):
    tap = TAPS["tap-hidrate"]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).date().isoformat()
    with tap.make_fake() as fake:
        result, messages, _ = tap_runner.run_tap("tap-hidrate", _config(tap, fake, start_date=future), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"tap-hidrate: setting start_date '{future}' is in the future" in result.stderr
    assert not [m for m in messages if m["type"] == "RECORD" and m["stream"] == "hidrate__sips"]


# --- the same through Meltano, settings from the environment ------------------------------


def test_meltano_run_names_a_non_number_setting(meltano):
    """Meltano's own `kind: integer` would fail with a bare "invalid literal for int()"."""
    tap = TAPS["tap-garmin"]
    with tap.make_fake() as fake:
        result = meltano.run(
            "run",
            "tap-garmin",
            "target-postgres",
            check=False,
            extra_env=tap.env(fake, lookback_days="abc", end_date="2024-13-45"),
        )
    text = output(result)
    assert result.returncode != 0
    assert "tap-garmin: setting lookback_days: must be a whole number (got 'abc')" in text, text[-3000:]
    assert "tap-garmin: setting end_date: must be a date (YYYY-MM-DD): month must be in 1..12" in text
    assert "invalid literal" not in text
    assert fake.requests == []
    for secret in _secrets(tap, fake):
        assert secret not in text


def test_meltano_run_names_a_list_setting_that_is_not_json(meltano):
    """Meltano's own `kind: array` would fail with "Failed to parse JSON array", naming no setting."""
    tap = TAPS["tap-notion"]
    with tap.make_fake() as fake:
        result = meltano.run(
            "run", "tap-notion", "target-postgres", check=False, extra_env=tap.env(fake, database_ids="abc123, def456")
        )
    text = output(result)
    assert result.returncode != 0
    assert "tap-notion: setting database_ids: must be a JSON list (got 'abc123, def456')" in text, text[-3000:]
    assert "Failed to parse" not in text and fake.requests == []
    assert fake.token not in text


def test_meltano_run_refuses_a_zero_page_size_and_reads_numbers_from_text(meltano):
    tap = TAPS["tap-hidrate"]
    with tap.make_fake() as fake:
        refused = meltano.run(
            "run", "tap-hidrate", "target-postgres", check=False, extra_env=tap.env(fake, page_size="0")
        )
        assert fake.requests == []
        meltano.run("run", "tap-hidrate", "target-postgres", extra_env=tap.env(fake, page_size=" 7 "))
        limits = {r["query"].get("limit") for r in fake.data_requests()}
    assert refused.returncode != 0
    assert "tap-hidrate: setting page_size: must be at least 1 (got 0)" in output(refused)
    assert limits == {"7"}
    assert meltano.query("SELECT count(*) FROM bronze.hidrate__sips")[0][0] == len(fake.classes["Sip"])


# --- meltano.yml and the taps' own schemas ------------------------------------------------


def _extractors():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    for plugin in project["plugins"]["extractors"]:
        if "namespace" not in plugin:  # inherits from another plugin
            continue
        module = importlib.import_module(plugin["namespace"] + ".tap")
        (tap_class,) = [
            c for c in vars(module).values() if isinstance(c, type) and getattr(c, "name", None) == plugin["name"]
        ]
        yield plugin, own_schema(tap_class)


def own_schema(tap_class) -> dict:
    """The tap's settings schema without the settings singer-sdk gives every tap (asked of singer-sdk)."""
    builtin: dict = {"properties": {}}
    tap_class.append_builtin_config(builtin)
    schema = tap_class.config_jsonschema
    return {**schema, "properties": {k: v for k, v in schema["properties"].items() if k not in builtin["properties"]}}


EXTRACTORS = list(_extractors())


@pytest.mark.parametrize("plugin, schema", EXTRACTORS, ids=[p["name"] for p, _ in EXTRACTORS])
def test_meltano_yml_settings_match_the_taps_schema(plugin, schema):
    name, properties = plugin["name"], schema["properties"]
    settings = {s["name"]: s for s in plugin.get("settings", [])}
    assert set(properties) <= set(settings), f"{name}: meltano.yml lacks {set(properties) - set(settings)}"
    assert set(settings) - set(properties) <= SDK_SETTINGS, f"{name}: meltano.yml has unknown settings"
    for setting, declared in settings.items():
        assert declared.get("description"), f"{name}: setting {setting} has no description"
        if setting in properties:
            assert declared["description"] == properties[setting].get("description"), (
                f"{name}: the description of {setting} differs from `{name} --about`"
            )
            types = properties[setting].get("type", [])
            if {"integer", "number", "array", "object"} & set([types] if isinstance(types, str) else types):
                # Meltano's own kinds fail on a typo without naming the setting; the tap reads the text.
                assert declared.get("kind", "string") == "string", f"{name}: {setting} must be kind: string"
    required = schema.get("required")
    if required:
        assert plugin.get("settings_group_validation") == [sorted(required)], (
            f"{name}: settings_group_validation must list the tap's required settings {sorted(required)}"
        )


def test_a_taps_settings_schema_is_the_same_before_and_after_a_tap_is_made(tmp_path):
    """singer-sdk adds its built-in settings to the class's schema in place when a tap is first
    validated; BronzeTap completes the schema at import, so what a process reads of it never
    depends on whether a tap was made in it before. A fresh process: this one has made taps."""
    tap = TAPS["tap-hidrate"]
    with tap.make_fake() as fake:
        (tmp_path / "config.json").write_text(json.dumps(_config(tap, fake)))
        script = (
            "import copy, json, sys\n"
            "from tap_hidrate.tap import TapHidrate\n"
            "before = copy.deepcopy(TapHidrate.config_jsonschema)\n"
            "TapHidrate(config=json.load(open(sys.argv[1])), validate_config=True)\n"
            "after = TapHidrate.config_jsonschema\n"
            "print(json.dumps({'unchanged': before == after, 'settings': sorted(before['properties'])}))\n"
        )
        result = subprocess.run(
            [str(tap_runner.BIN / "python"), "-c", script, str(tmp_path / "config.json")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert fake.requests == []
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout)
    assert seen["unchanged"], "making a tap changed its class's settings schema"
    assert {"page_size", "stream_maps", "batch_config"} <= set(seen["settings"])


@pytest.mark.parametrize("name", sorted(TAPS))
def test_every_setting_marked_secret_is_masked_as_soon_as_the_tap_starts(name):
    """BronzeTap masks each setting marked ``secret`` in the schema: no second list per tap to forget."""
    from bronze_core.redact import scrub

    module = importlib.import_module(name.replace("-", "_") + ".tap")
    (tap_class,) = [c for c in vars(module).values() if isinstance(c, type) and getattr(c, "name", None) == name]
    marked = [k for k, v in tap_class.config_jsonschema["properties"].items() if v.get("secret")]
    tap = TAPS[name]
    with tap.make_fake() as fake:  # asked nothing: a tap makes no request when it starts
        config = _config(tap, fake)
        fresh = {key: f"secret-{key}-{uuid.uuid4().hex}" for key in marked}  # never registered before
        tap_class(config={**config, **fresh}, validate_config=True)
        assert fake.requests == []
    for key, value in fresh.items():
        assert scrub(f"it was {value}") == "it was ***", f"{name}: setting {key} is not masked"
    assert name == "tap-openmeteo" or marked, f"{name} has no secret setting"


def test_text_is_read_as_the_schema_types_it_and_anything_else_is_left_to_be_named():
    from bronze_core.settings import read_text_settings

    schema = {
        "properties": {
            "n": {"type": ["integer", "null"]},
            "r": {"type": ["number"]},
            "r2": {"type": ["number"]},
            "r3": {"type": ["number"]},
            "ids": {"type": ["array"]},
            "bad": {"type": ["array"]},
            "s": {"type": ["string"]},
        }
    }
    config = {"n": " 7 ", "r": "0.5", "r2": "nan", "r3": "1e3", "ids": '["a"]', "bad": "a, b", "s": "12"}
    read_text_settings(config, schema)
    assert config == {"n": 7, "r": 0.5, "r2": "nan", "r3": 1000, "ids": ["a"], "bad": "a, b", "s": "12"}
