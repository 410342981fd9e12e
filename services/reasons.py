"""Validation errors told in Italian, as a user reads them: what `ref load` refuses and what the
command line's options refuse (pydantic reports both), in one short phrase each."""

from __future__ import annotations

from pydantic_core import ErrorDetails

# What each kind of pydantic error means, with the bound it names where it has one.
_REASONS = {
    "missing": "manca",
    "extra_forbidden": "campo non previsto",
    "int_type": "deve essere un numero intero",
    "int_parsing": "deve essere un numero intero",
    "int_from_float": "deve essere un numero intero",
    "bool_type": "deve essere true o false",
    "bool_parsing": "deve essere true o false",
    "float_type": "deve essere un numero",
    "float_parsing": "deve essere un numero",
    "finite_number": "deve essere un numero finito",
    "string_type": "deve essere un testo",
    "string_too_short": "deve avere almeno {min_length} caratteri",
    "string_too_long": "deve avere al più {max_length} caratteri",
    "string_pattern_mismatch": "contiene caratteri non ammessi",
    "greater_than": "deve essere maggiore di {gt}",
    "greater_than_equal": "deve essere almeno {ge}",
    "less_than": "deve essere minore di {lt}",
    "less_than_equal": "deve essere al più {le}",
    "list_type": "deve essere un elenco",
    "model_type": "deve essere un oggetto",
    "dict_type": "deve essere un oggetto",
    "date_type": "deve essere una data AAAA-MM-GG",
    "date_parsing": "deve essere una data AAAA-MM-GG",
    "date_from_datetime_parsing": "deve essere una data AAAA-MM-GG",
    "date_from_datetime_inexact": "deve essere una data AAAA-MM-GG",
    "enum": "deve essere uno tra {expected}",
}


def reason(error: ErrorDetails) -> str:
    """One pydantic error as an Italian phrase; a check of our own (a `ValueError`) is already
    worded, and a kind not listed keeps pydantic's words."""
    context = error.get("ctx") or {}
    if error["type"] in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])
    if error["type"] == "string_too_short" and context.get("min_length") == 1:
        return "non può essere vuoto"
    template = _REASONS.get(error["type"])
    try:
        return error["msg"] if template is None else template.format(**context)
    except (KeyError, IndexError):  # a bound the phrase names and pydantic did not give
        return error["msg"]
