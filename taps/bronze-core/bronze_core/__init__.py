"""Shared mechanics of the bronze taps.

Every tap in this project emits the same record shape, the *bronze envelope*
(see ``envelope.py``), so that one loader configuration lands every source the
same way. Taps import what they need from here and never copy it.
"""

__version__ = "0.1.0"
