"""Distances and travel times, behind a provider interface.

The default works offline: great-circle distance times a road factor at a configured speed.
`OsrmProvider` asks a routing server (its `/route/v1/driving` HTTP API) and falls back to the
straight-line estimate when the server is slow or down, so a quote never fails on it.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Leg:
    km: float
    minutes: float


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def road_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Straight-line distance stretched by the road factor (an offline estimate)."""
    return haversine_km(lat1, lng1, lat2, lng2) * settings.MALLRUN_ROAD_FACTOR


def travel_minutes(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return road_km(lat1, lng1, lat2, lng2) / settings.MALLRUN_SPEED_KMH * 60


class TravelProvider:
    def leg(self, lat1: float, lng1: float, lat2: float, lng2: float) -> Leg:
        raise NotImplementedError


class StraightLineProvider(TravelProvider):
    def leg(self, lat1: float, lng1: float, lat2: float, lng2: float) -> Leg:
        return Leg(
            km=road_km(lat1, lng1, lat2, lng2), minutes=travel_minutes(lat1, lng1, lat2, lng2)
        )


class OsrmProvider(TravelProvider):
    """Driving distance and time from an OSRM server at `MALLRUN_OSRM_URL`."""

    def __init__(self, base_url: str | None = None, timeout: float | None = None):
        self.base_url = (base_url or settings.MALLRUN_OSRM_URL).rstrip("/")
        self.timeout = timeout or settings.MALLRUN_OSRM_TIMEOUT_SECONDS
        self.fallback = StraightLineProvider()

    def leg(self, lat1: float, lng1: float, lat2: float, lng2: float) -> Leg:
        url = (
            f"{self.base_url}/route/v1/driving/{lng1:.6f},{lat1:.6f};{lng2:.6f},{lat2:.6f}"
            "?overview=false&alternatives=false&steps=false"
        )
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310
                body = json.load(response)
            if body.get("code") != "Ok" or not body.get("routes"):
                raise ValueError(body.get("message") or body.get("code") or "no route")
            route = body["routes"][0]
            return Leg(km=route["distance"] / 1000, minutes=route["duration"] / 60)
        except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
            log.warning("OSRM unavailable (%s); using the straight-line estimate", exc)
            return self.fallback.leg(lat1, lng1, lat2, lng2)


@cache
def _provider(path: str) -> TravelProvider:
    return import_string(path)()


def travel(lat1: float, lng1: float, lat2: float, lng2: float) -> Leg:
    """Distance and driving time between two points, from the configured provider."""
    return _provider(settings.MALLRUN_TRAVEL_PROVIDER).leg(lat1, lng1, lat2, lng2)
