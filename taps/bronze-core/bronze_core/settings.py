"""Settings checked once, by name, before a tap reads anything.

A bad setting used to surface late and anonymously: ``lookback_days=abc``
as "invalid literal for int()", ``start_date=2024-13-45`` as "month must be in
1..12" from the middle of a stream, and a page size of 0 as a run that read
nothing and exited 0. Here every setting is checked against the tap's
``config_jsonschema`` (types, ``required``, dates that parse) plus minimums
that no tap should have to repeat (``COUNT_MINIMUMS``), and every problem
becomes one line naming the setting and the value it got (never the value of
a secret setting):

    tap-garmin: setting lookback_days: must be a whole number (got 'abc')

Numbers, lists and objects arrive as text when they come from the environment
(Meltano declares them ``kind: string`` in meltano.yml, because its ``kind:
integer`` fails on ``abc`` with a bare ``int()`` traceback, and its ``kind:
array`` with "Failed to parse JSON array", neither naming the setting): a
setting typed integer, number, array or object in the schema is read from text
here (``read_text_settings``).

What a schema cannot say is checked by the tap before it reads, with the
helpers at the end (``required_path``, ``required_timezone``,
``unique_stream_names``): the same one-line errors, written once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from bronze_core.timestamps import UTC, parse_timestamp

#: Lowest allowed values of count-like settings: (bound, exclusive). A page
#: size of 0 asks for nothing and ends the walk at once; a request_timeout of 0
#: fails every request; no count, wait or window is ever negative.
COUNT_MINIMUMS: dict[str, tuple[float, bool]] = {
    "page_size": (1, False),
    "chunk_days": (1, False),
    "max_requests_per_run": (1, False),
    "request_timeout": (0, True),
    "requests_per_second": (0, True),
    "max_retries": (0, False),
}
#: Suffixes of settings that are counts, waits or windows: never negative.
NON_NEGATIVE_SUFFIXES = ("_days", "_seconds", "_ms")
#: What a JSON Schema type means to a user typing a setting.
TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "array": "a JSON list",
    "object": "a JSON object",
    "boolean": "true or false",
}
DATE_FORMATS = {"date": "a date (YYYY-MM-DD)", "date-time": "a date or time (ISO 8601)"}
_INTEGER = re.compile(r"[+-]?\d+")
_REQUIRED = re.compile(r"^'(.+)' is a required property$")
SHOWN_CHARS = 60


def count_minimum(name: str) -> tuple[float, bool] | None:
    """(bound, exclusive) for a count-like setting name, else None."""
    if name.endswith("_page_size"):
        name = "page_size"
    if name in COUNT_MINIMUMS:
        return COUNT_MINIMUMS[name]
    if name.endswith(NON_NEGATIVE_SUFFIXES):
        return (0, False)
    return None


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def with_minimums(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` whose numeric count-like properties carry ``COUNT_MINIMUMS``.

    A minimum the tap declares itself is kept when it is stricter.
    """
    properties = {}
    for name, prop in (schema.get("properties") or {}).items():
        bound = count_minimum(name)
        if bound is not None and _types(prop) & {"integer", "number"}:
            value, exclusive = bound
            key = "exclusiveMinimum" if exclusive else "minimum"
            prop = {**prop, key: max(value, prop.get(key, value))}
        properties[name] = prop
    return {**schema, "properties": properties}


def read_text_settings(config: MutableMapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Settings typed integer, number, array or object, given as text (environment, Meltano), read.

    Numbers as numbers, lists and objects as JSON. Text that is none of these
    is left as it is, for the check to report by name.
    """
    for name, prop in (schema.get("properties") or {}).items():
        value = config.get(name)
        types = _types(prop)
        if not isinstance(value, str) or "string" in types:
            continue
        text = value.strip()
        if types & {"array", "object"}:
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, (list, dict)):
                config[name] = parsed
        elif "integer" in types and _INTEGER.fullmatch(text):
            config[name] = int(text)
        elif "number" in types:
            try:
                number = float(text)
            except ValueError:
                continue
            if number == number and abs(number) != float("inf"):  # no NaN, no infinity
                config[name] = int(number) if number.is_integer() and "." not in text else number


def secret_names(schema: Mapping[str, Any], extra: Iterable[str] = ()) -> set[str]:
    """Settings whose values must never be shown: ``secret``/``writeOnly`` ones and ``extra``."""
    names = set(extra)
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("secret") or prop.get("writeOnly"):
            names.add(name)
    return names


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _where(path: list) -> str:
    """``locations[0].latitude`` for a path into a setting."""
    name, rest = str(path[0]), ""
    for part in path[1:]:
        rest += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name + rest


def _problem(error: jsonschema.ValidationError) -> str:
    """What is wrong, in words, without quoting the value (the caller decides whether to)."""
    rule, bound = error.validator, error.validator_value
    if rule == "type":
        wanted = [TYPE_WORDS.get(t, t) for t in ([bound] if isinstance(bound, str) else bound) if t != "null"]
        return "must be " + " or ".join(wanted)
    words = {
        "minimum": "at least",
        "exclusiveMinimum": "more than",
        "maximum": "at most",
        "exclusiveMaximum": "less than",
    }
    if rule in words:
        return f"must be {words[rule]} {bound}"
    if rule == "enum":
        return "must be one of " + ", ".join(map(repr, bound))
    if rule == "minItems":
        return f"must list at least {bound} item(s)"
    return f"is not valid ({rule})"


def _date_problems(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, str]:
    """Date settings that do not parse, as the streams would parse them: name -> problem."""
    problems = {}
    for name, prop in (schema.get("properties") or {}).items():
        value, form = config.get(name), prop.get("format")
        if form in DATE_FORMATS and isinstance(value, str):
            try:
                parse_timestamp(value)
            except (ValueError, OverflowError) as exc:
                problems[name] = f"must be {DATE_FORMATS[form]}: {exc}"
    return problems


def setting_errors(
    tap: str, config: Mapping[str, Any], schema: Mapping[str, Any], secrets: Iterable[str] = ()
) -> list[str]:
    """One line per bad setting: ``<tap>: setting <name>: <problem> (got <value>)``."""
    hidden = secret_names(schema, secrets)
    lines: dict[str, str] = {}

    def add(where: str, problem: str, value: Any = None, show: bool = False) -> None:
        if where in lines:
            return
        name = where.split("[", 1)[0].split(".", 1)[0]
        got = ""
        if show and name not in hidden:
            got = f" (got {_shown(value)})"
        elif show:
            got = " (the value is not shown: it is a secret)"
        lines[where] = f"{tap}: setting {where}: {problem}{got}"

    for name, problem in _date_problems(config, schema).items():
        add(name, problem, config[name], show=True)
    validator_class = jsonschema.validators.validator_for(schema)
    for error in validator_class(with_minimums(schema)).iter_errors(dict(config)):
        path = list(error.absolute_path)
        if error.validator == "required" and (match := _REQUIRED.match(error.message)):
            add(_where(path + [match.group(1)]), "required, but not set")
        elif path:
            add(_where(path), _problem(error), error.instance, show=True)
        else:
            add("(all)", _problem(error))
    start, end = _parsed(config, "start_date"), _parsed(config, "end_date")
    if start and end and end < start and "end_date" not in lines:
        add("end_date", f"is before start_date {config['start_date']!r}", config["end_date"], show=True)
    return [lines[k] for k in sorted(lines)]


def _parsed(config: Mapping[str, Any], name: str) -> dt.datetime | None:
    try:
        return parse_timestamp(config.get(name))
    except (ValueError, OverflowError, TypeError):
        return None


def future_start(config: Mapping[str, Any], now: dt.datetime | None = None) -> str | None:
    """A warning when ``start_date`` lies in the future (nothing can be read before it)."""
    start = _parsed(config, "start_date")
    if start is None or start <= (now or dt.datetime.now(UTC)):
        return None
    return (
        f"setting start_date {config['start_date']!r} is in the future: a first run reads "
        "nothing before it, so nothing lands until that day comes. Is it a typo?"
    )


def env_variable(tap: str, setting: str) -> str:
    """The environment variable Meltano reads a setting from: ``TAP_MANUAL_MANUAL_DIR``."""
    return f"{tap}_{setting}".upper().replace("-", "_")


def required_path(tap: str, config: Mapping[str, Any], setting: str, *, folder: bool = False, hint: str = "") -> Path:
    """The file or folder a setting names, checked before anything is read.

    A setting that is unset, names nothing, or (``folder``) names no folder
    stops the tap with one line naming the setting, its environment variable
    and ``hint`` (what to point it at), instead of a traceback from the first
    stream that opens it.
    """
    where = f"(setting {setting}, {env_variable(tap, setting)}){hint}"
    value = config.get(setting)
    if not value:
        raise SystemExit(f"{tap}: {setting} is not set {where}")
    path = Path(value).expanduser()
    if folder and not path.is_dir():
        raise SystemExit(f"{tap}: {setting} {path} is not a folder {where}")
    if not path.exists():
        raise SystemExit(f"{tap}: {setting} {path} does not exist {where}")
    return path


def required_timezone(tap: str, config: Mapping[str, Any], setting: str = "timezone") -> ZoneInfo:
    """The IANA zone a setting names; a name Python's zone database lacks stops the tap."""
    try:
        return ZoneInfo(config[setting])
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise SystemExit(
            f"{tap}: {setting} {config.get(setting)!r} is not an IANA time zone name "
            f"(setting {setting}), e.g. Europe/Berlin"
        ) from None


class _HasName(Protocol):
    name: str


Named = TypeVar("Named", bound=_HasName)


def unique_stream_names(tap: str, streams: Sequence[Named], what: str) -> Sequence[Named]:
    """``streams``, unless two of them (made from ``what``: folders, tables) got one name.

    Stream names are made from user-chosen names (a folder, a table); two that
    normalise alike would land in one table, so the tap stops and says which.
    """
    names = [stream.name for stream in streams]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise SystemExit(f"{tap}: these {what} map to the same stream name: {clashes}; rename one")
    return streams
