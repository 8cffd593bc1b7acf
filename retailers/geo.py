"""Distances and travel times that work offline.

Great-circle distance times a road factor at a configured speed. A routing server can be
plugged in later behind the same `travel_minutes` call (DESIGN.md, "The delivery promise").
"""

import math

from django.conf import settings

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def road_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return haversine_km(lat1, lng1, lat2, lng2) * settings.MALLRUN_ROAD_FACTOR


def travel_minutes(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return road_km(lat1, lng1, lat2, lng2) / settings.MALLRUN_SPEED_KMH * 60
