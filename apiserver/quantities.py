"""Resource quantities (``500m``, ``128Mi``, ``1e3``): the one parser, in Kubernetes' grammar.

Public, so the control plane reads quantities exactly as the API server admitted them::

    <quantity> ::= <signedNumber><suffix>
    <number>   ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
    <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | m | "" | k | M | G | T | P | E
                 | e<signedNumber> | E<signedNumber>
"""

import re
from decimal import Decimal

# The message kube-apiserver's decoder gives for a string that is not a quantity.
QUANTITY_MESSAGE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)

_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_GRAMMAR = re.compile(
    r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))"
    r"(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
)
# Beyond this many digits either side of the point, a quantity is not a resource amount.
_MAX_DIGITS = 64


def parse_quantity(value: str | int | float | None) -> Decimal:
    """A quantity as a number of base units (cores, bytes, Pods); ValueError if it is none."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        raise ValueError(QUANTITY_MESSAGE)
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str) or len(value) > _MAX_DIGITS:
        raise ValueError(QUANTITY_MESSAGE)
    match = _GRAMMAR.fullmatch(value)
    if not match:
        raise ValueError(QUANTITY_MESSAGE)
    number, suffix = match[1], match[2] or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        exponent = int(suffix[1:])
        if abs(exponent) > _MAX_DIGITS:
            raise ValueError(QUANTITY_MESSAGE)
        return Decimal(number).scaleb(exponent)
    return Decimal(number) * _SUFFIX[suffix]


def is_quantity(value: object) -> bool:
    try:
        parse_quantity(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True
