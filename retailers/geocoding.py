"""Turning what a shopper types into coordinates, behind a provider interface.

The default provider works offline: US ZIP centroids from the `zipcodes` package, which ships
its data. Browser geolocation gives coordinates directly and needs no provider. A real
address geocoder implements `GeocodingProvider.geocode` and is named in
`MALLRUN_GEOCODING_PROVIDER`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

ZIP_RE = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")


class GeocodingError(Exception):
    """The place could not be found; the message is meant for the shopper."""


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    zip_code: str = ""
    city: str = ""
    state: str = ""
    label: str = ""


class GeocodingProvider:
    def geocode(self, query: str) -> Place:
        raise NotImplementedError


class ZipCentroidProvider(GeocodingProvider):
    """US ZIP code → its centroid. Street addresses are found by the ZIP they end with."""

    def geocode(self, query: str) -> Place:
        query = (query or "").strip()
        match = ZIP_RE.match(query) or re.search(r"\b(\d{5})(?:-\d{4})?\s*$", query)
        if not match:
            raise GeocodingError("Enter a 5-digit US ZIP code, e.g. 89109.")
        zip_code = match.group(1)
        import zipcodes

        try:
            found = zipcodes.matching(zip_code)
        except (ValueError, TypeError):
            found = []
        found = [z for z in found if z.get("lat") and z.get("long")]
        if not found:
            raise GeocodingError(f"We couldn't find ZIP code {zip_code}. Check it and try again.")
        z = found[0]
        return Place(
            latitude=float(z["lat"]),
            longitude=float(z["long"]),
            zip_code=zip_code,
            city=z.get("city", "").title(),
            state=z.get("state", ""),
            label=f"{z.get('city', '').title()}, {z.get('state', '')} {zip_code}",
        )


@cache
def _provider(path: str) -> GeocodingProvider:
    return import_string(path)()


def geocode(query: str) -> Place:
    return _provider(settings.MALLRUN_GEOCODING_PROVIDER).geocode(query)
