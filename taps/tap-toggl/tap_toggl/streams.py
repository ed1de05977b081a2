"""Toggl Track API v9 streams, one class per stream."""

from __future__ import annotations

import datetime as dt

from bronze_core.http import JSON_ARRAY, RequestSpec
from bronze_core.timestamps import UTC, parse_timestamp
from bronze_core.windows import date_windows, start_day, today
from tap_toggl.client import TogglFullStream, TogglStream

#: `since` may reach back about three months; stay well inside.
SINCE_REACH_DAYS = 80
#: Re-ask a minute before the last `since`: clocks and in-flight edits.
SINCE_SLACK_SECONDS = 60
BACKFILL_WINDOW_DAYS = 30
DEFAULT_HISTORY_DAYS = 90


class TimeEntriesStream(TogglStream):
    """Time entries, incremental on modification time.

    ``GET /me/time_entries?since=<unix>`` returns every entry modified since
    then, deleted ones included (with ``server_deleted_at``), running ones with
    a negative ``duration``: all land as they are. ``since`` only reaches back
    about three months, so a first run, or a run after a long pause, walks
    ``start_date``/``end_date`` windows first. State:

    - ``cursor`` (``bronze_core.cursors``): when the last complete read
      began, asked as ``since`` next run;
    - while a backfill is under way, its progress: ``backfill_through``, the
      last day of the last fully read window, and ``backfill_started``, when
      it began (the cursor once it completes).

    A run stopped by the request budget or a 402 keeps the windows it finished
    and resumes after them; a window is only marked done once it was read.
    """

    name = "toggl__time_entries"
    path = "/me/time_entries"
    time_field = "start"

    def fetch_records(self, context):
        state = self.get_context_state(context)
        now = dt.datetime.now(UTC).replace(microsecond=0)
        since = parse_timestamp(self.cursor(context))
        if since and now - since < dt.timedelta(days=SINCE_REACH_DAYS) and "backfill_through" not in state:
            yield from self.fetch(RequestSpec(self.path, {"since": int(since.timestamp()) - SINCE_SLACK_SECONDS}))
            self.save_cursor(context, now)
            return
        yield from self.backfill(context, state, now, since)

    def backfill(self, context, state: dict, now: dt.datetime, since: dt.datetime | None):
        if state.get("backfill_through"):
            first = dt.date.fromisoformat(state["backfill_through"]) + dt.timedelta(days=1)
        elif since:  # paused too long for `since`: walk from where it stopped
            first = since.date() - dt.timedelta(days=1)
        else:
            first = start_day(self.config, DEFAULT_HISTORY_DAYS)
        state.setdefault("backfill_started", now.isoformat())
        for window in date_windows(first, today(), BACKFILL_WINDOW_DAYS):
            params = {
                "start_date": window.first.isoformat(),
                "end_date": (window.last + dt.timedelta(days=1)).isoformat(),
            }
            yield from self.fetch(RequestSpec(self.path, params))
            state["backfill_through"] = window.last.isoformat()
        self.save_cursor(context, state.pop("backfill_started"))
        state.pop("backfill_through", None)

    def upgrade_state(self, state: dict) -> None:
        """The previous version kept unix seconds: ``since`` (now the ``cursor``) and
        ``backfill_started``; both become ISO 8601 UTC."""
        if isinstance(state.get("since"), (int, float)):
            state.setdefault("cursor", unix_iso(state["since"]))
        state.pop("since", None)
        if isinstance(state.get("backfill_started"), (int, float)):
            state["backfill_started"] = unix_iso(state["backfill_started"])


def unix_iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(int(seconds), UTC).isoformat()


class WorkspacesStream(TogglFullStream):
    """The workspaces the user belongs to; parent of projects, clients and tags."""

    name = "toggl__workspaces"
    path = "/me/workspaces"
    response_shape = JSON_ARRAY  # every user has a workspace: never `null`

    def get_child_context(self, record, context):
        return {"workspace_id": record["raw_data"]["id"]}


class ProjectsStream(TogglFullStream):
    """Projects of each workspace (archived ones included)."""

    name = "toggl__projects"
    path = "/workspaces/{workspace_id}/projects"
    parent_stream_type = WorkspacesStream

    def get_url_params(self, context, next_page_token):
        return {"active": "both"}


class ClientsStream(TogglFullStream):
    """Clients of each workspace."""

    name = "toggl__clients"
    path = "/workspaces/{workspace_id}/clients"
    parent_stream_type = WorkspacesStream


class TagsStream(TogglFullStream):
    """Tags of each workspace."""

    name = "toggl__tags"
    path = "/workspaces/{workspace_id}/tags"
    parent_stream_type = WorkspacesStream


STREAMS = [TimeEntriesStream, WorkspacesStream, ProjectsStream, ClientsStream, TagsStream]
