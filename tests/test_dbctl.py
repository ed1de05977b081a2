"""scripts/dbctl.py: settings precedence and a real embedded start/stop."""

from __future__ import annotations

import socket

import pytest

import dbctl


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(dbctl, "ROOT", tmp_path)
    for key in ("DATABASE_URL", "PG_HOST", "PG_PORT", "PG_DB", "PG_USER", "PG_PASS", "PGDATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def test_defaults_mean_embedded(project):
    s = dbctl.settings()
    assert s["embedded"] is True
    assert s["url"] == "postgresql://postgres@127.0.0.1:55432/bronze"


def test_dotenv_then_environment(project, monkeypatch):
    (project / ".env").write_text('# comment\nPG_PORT=6000\nexport PG_DB="mine"\n')
    assert dbctl.settings()["PG_PORT"] == "6000" and dbctl.settings()["PG_DB"] == "mine"
    monkeypatch.setenv("PG_PORT", "7000")
    assert dbctl.settings()["PG_PORT"] == "7000"
    assert dbctl.settings()["embedded"] is True


def test_database_url_means_external(project):
    (project / ".env").write_text("DATABASE_URL=postgresql://bob:s%40cret@db.example:5433/life\n")
    s = dbctl.settings()
    assert s["embedded"] is False
    assert (s["PG_HOST"], s["PG_PORT"], s["PG_DB"], s["PG_USER"], s["PG_PASS"]) == (
        "db.example", "5433", "life", "bob", "s@cret")
    assert s["url"] == "postgresql://bob:s%40cret@db.example:5433/life"


def test_database_names_are_checked(project):
    with pytest.raises(ValueError):
        dbctl.create_database('x"; DROP DATABASE bronze; --')


def test_embedded_up_down_up(project, monkeypatch, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PG_PORT", str(port))
    monkeypatch.setenv("PGDATA_DIR", str(project / "pgdata"))
    try:
        dbctl.up()
        with dbctl.connect() as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("bronze",)
        dbctl.down()
        assert not dbctl.is_reachable()
        dbctl.up()
        assert dbctl.is_reachable()
    finally:
        dbctl.down()
    assert "started the embedded PostgreSQL" in capsys.readouterr().out
