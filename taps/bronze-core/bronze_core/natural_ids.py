"""Natural ids from how files spell them: one spelling per id, whatever the file did.

A ``raw_id`` is built from normalised values so that the same thing read from
two copies of a file gets one raw_id: ``  42`` and ``42`` are one id, and so are
``1462233599000`` and ``1.462233599E+12`` (what a spreadsheet writes for a
13-digit number it re-saved with all its digits). But ``1.46223E+12`` is
*lossy*: the spreadsheet kept six digits of ``1462233599000``, and every log
id between ``1462225000000`` and ``1462234999999`` is written the same way. A
lossy number cannot identify a row on its own; ``normal_id`` says so, and the
caller keys such a row by more than that number.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def normal_id(value: Any) -> tuple[str, bool]:
    """``(text, lossy)``: the id as one canonical text, and whether digits were lost.

    Text is trimmed; a number (or numeric text) is written as a plain integer
    when it is one with every digit known, else as a normalised decimal
    (``1.46223E+12``), which is ``lossy`` when it stands for an integer whose
    last digits the writer dropped. Booleans and other values are their text.
    """
    if isinstance(value, bool) or value is None:
        return str(value), False
    if isinstance(value, int):
        return str(value), False
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):
        return text, False  # the common case: a plain integer id
    if not _NUMBER.fullmatch(text):
        return text, False
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text, False
    mantissa, _, exponent = text.lower().partition("e")
    shown_decimals = len(mantissa.partition(".")[2])
    if number == number.to_integral_value():
        if exponent and int(exponent) > shown_decimals:
            return f"{number.normalize():E}", True
        return str(int(number)), False
    return str(number.normalize()), False
