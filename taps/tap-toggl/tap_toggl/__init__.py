"""tap-toggl: Toggl Track time entries, workspaces, projects, clients and tags as bronze rows."""
