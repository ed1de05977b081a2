"""Toggl Track API v9 streams, one class per stream."""

from __future__ import annotations

import datetime as dt
import time

from bronze_core.http import JSON_ARRAY
from bronze_core.timestamps import UTC
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

    - ``backfill_through``: last day of the last fully read window (while a
      backfill is under way), ``backfill_started``: when it began;
    - ``since``: unix time to ask from next run (set when a run completes).

    A run stopped by the request budget or a 402 keeps the windows it finished
    and resumes after them; a window is only marked done once it was read.
    """

    name = "toggl__time_entries"
    path = "/me/time_entries"
    replication_key = None
    time_field = "start"

    def fetch_records(self, context):
        state = self.stream_state
        now = int(time.time())
        since = state.get("since")
        if since and now - since < SINCE_REACH_DAYS * 86400 and "backfill_through" not in state:
            yield from self.fetch(self.url_base + self.path, {"since": since - SINCE_SLACK_SECONDS})
            state["since"] = now
            return
        yield from self.backfill(state, now)

    def backfill(self, state: dict, now: int):
        if state.get("backfill_through"):
            first = dt.date.fromisoformat(state["backfill_through"]) + dt.timedelta(days=1)
        elif state.get("since"):  # paused too long for `since`: walk from where it stopped
            first = dt.datetime.fromtimestamp(state["since"], UTC).date() - dt.timedelta(days=1)
        else:
            first = start_day(self.config, DEFAULT_HISTORY_DAYS)
        state.setdefault("backfill_started", now)
        for window in date_windows(first, today(), BACKFILL_WINDOW_DAYS):
            params = {"start_date": window.first.isoformat(),
                      "end_date": (window.last + dt.timedelta(days=1)).isoformat()}
            yield from self.fetch(self.url_base + self.path, params)
            state["backfill_through"] = window.last.isoformat()
        state["since"] = state.pop("backfill_started")
        state.pop("backfill_through", None)


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
