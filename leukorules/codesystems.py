"""Code systems a terminology binding may name, and the well-formedness check of each one's codes.

Input: a system's name as a policy writes it (`snomed`, `icd10cm`, `rxnorm`, `loinc`) or its
canonical URI, and a code. Output: the URI of a name (and the name of a URI), and whether a code
is well formed for its system (a SNOMED CT identifier with a valid Verhoeff check digit, an
ICD-10-CM code, an RxNorm concept id, a LOINC code with a valid mod-10 check digit). A
well-formed code may still not exist; existence is what the `source` of each code in a policy's
value sets records. Depends on nothing: the checker and `leukorules.fhir` both read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

SNOMED_CT = "http://snomed.info/sct"
ICD_10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"

SYSTEM_NAMES = {SNOMED_CT: "SNOMED CT", ICD_10_CM: "ICD-10-CM", RXNORM: "RxNorm", LOINC: "LOINC"}
# How a policy names each system (`snomed 22255007 "..."`), and the URI records use.
SYSTEMS_BY_KEYWORD = {"snomed": SNOMED_CT, "icd10cm": ICD_10_CM, "rxnorm": RXNORM, "loinc": LOINC}
KEYWORDS_BY_SYSTEM = {uri: keyword for keyword, uri in SYSTEMS_BY_KEYWORD.items()}

# Verhoeff's dihedral-group tables (multiplication and permutation), as published.
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)

_SCTID = re.compile(r"[1-9][0-9]{5,17}")
_ICD_10_CM = re.compile(r"[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?")
_RXCUI = re.compile(r"[1-9][0-9]{0,8}")
_LOINC = re.compile(r"([1-9][0-9]{0,6})-([0-9])")


def verhoeff_valid(digits: str) -> bool:
    """Whether a digit string ends with the Verhoeff check digit of the digits before it."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(digit)]]
    return check == 0


def snomed_ct_valid(code: str) -> bool:
    """An SCTID: 6 to 18 digits, partition 00 or 10 (a concept), Verhoeff check digit last."""
    return (
        _SCTID.fullmatch(code) is not None and code[-3:-1] in ("00", "10") and verhoeff_valid(code)
    )


def icd_10_cm_valid(code: str) -> bool:
    """An ICD-10-CM code as FHIR writes it: category letter, two characters, a dot, up to four."""
    return _ICD_10_CM.fullmatch(code) is not None


def rxnorm_valid(code: str) -> bool:
    """An RxNorm concept unique identifier (RXCUI): digits, no leading zero."""
    return _RXCUI.fullmatch(code) is not None


def loinc_check_digit(number: str) -> int:
    """LOINC's mod-10 check digit of the part before the hyphen."""
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


def loinc_valid(code: str) -> bool:
    """A LOINC code: digits, a hyphen and the mod-10 check digit of those digits."""
    match = _LOINC.fullmatch(code)
    return match is not None and loinc_check_digit(match.group(1)) == int(match.group(2))


CODE_CHECKS: dict[str, Callable[[str], bool]] = {
    SNOMED_CT: snomed_ct_valid,
    ICD_10_CM: icd_10_cm_valid,
    RXNORM: rxnorm_valid,
    LOINC: loinc_valid,
}


def well_formed(system: str, code: str) -> bool:
    """Whether `code` is well formed in `system`; False for a system not listed here."""
    check = CODE_CHECKS.get(system)
    return check is not None and check(code)
