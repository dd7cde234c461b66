"""Places and distances: offline gazetteer lookups (ZIP, city, state, country) and great-circle geometry."""

from trialfinder.geo.countries import canonical_country, country_code, country_name, us_state_name
from trialfinder.geo.distance import bounding_box, haversine_km, parse_radius
from trialfinder.geo.gazetteer import resolve_place
from trialfinder.geo.places import Place, UnknownPlace
from trialfinder.geo.sites import geocode_site

__all__ = [
    "Place",
    "UnknownPlace",
    "bounding_box",
    "country_code",
    "canonical_country",
    "country_name",
    "geocode_site",
    "haversine_km",
    "parse_radius",
    "resolve_place",
    "us_state_name",
]
