"""The bronze loader and the project's PostgreSQL settings, beside the taps.

- ``loader``: ``target-postgres-bronze``, MeltanoLabs target-postgres that
  creates bronze tables from ``sql/`` and COPYs envelopes (its own virtualenv);
- ``pgsettings``: where the project's PostgreSQL is, one rule for the loader,
  the scripts, the tests and Meltano;
- ``systemdb``: the SQLAlchemy plugin that puts Meltano's bookmarks in that
  database (meltano.yml's ``database_uri``).

Taps never import this package; it imports the envelope's columns and key
from ``bronze_core.envelope``.
"""
