"""Where a shopper is (ZIP centroids, offline) and how far the mall is (straight line or OSRM)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from retailers.geo import Leg, OsrmProvider, StraightLineProvider, haversine_km, travel
from retailers.geocoding import GeocodingError, ZipCentroidProvider, geocode

STRIP = (36.1147, -115.1728)  # Las Vegas Boulevard at Flamingo Road


# --- Geocoding ------------------------------------------------------------------------------


def test_a_las_vegas_zip_lands_near_the_strip():
    place = ZipCentroidProvider().geocode("89109")

    assert haversine_km(place.latitude, place.longitude, *STRIP) < 5
    assert place.zip_code == "89109"
    assert place.state == "NV"
    assert place.city == "Las Vegas"
    assert place.label == "Las Vegas, NV 89109"


@pytest.mark.parametrize(
    "query", ["  89109 ", "89109-1234", "3200 S Las Vegas Blvd, Las Vegas, NV 89109"]
)
def test_a_zip_with_spaces_a_plus_four_or_ending_an_address_is_found(query):
    assert ZipCentroidProvider().geocode(query).zip_code == "89109"


def test_geocode_uses_the_provider_named_in_settings(settings):
    settings.MALLRUN_GEOCODING_PROVIDER = "retailers.geocoding.ZipCentroidProvider"

    assert geocode("10001").state == "NY"


def test_an_unknown_zip_is_a_clear_message():
    with pytest.raises(GeocodingError) as error:
        ZipCentroidProvider().geocode("00000")

    assert str(error.value) == "We couldn't find ZIP code 00000. Check it and try again."


@pytest.mark.parametrize("garbage", ["", "   ", "Las Vegas", "8910", "891090", "abcde", None])
def test_anything_but_a_zip_is_a_clear_message(garbage):
    with pytest.raises(GeocodingError) as error:
        ZipCentroidProvider().geocode(garbage)

    assert str(error.value) == "Enter a 5-digit US ZIP code, e.g. 89109."


# --- Straight line ----------------------------------------------------------------------------


def test_one_degree_of_latitude_is_about_111_km():
    assert haversine_km(36.0, -115.0, 37.0, -115.0) == pytest.approx(111.19, abs=0.01)
    assert haversine_km(36.0, -115.0, 36.0, -115.0) == 0


def test_the_straight_line_estimate_stretches_by_the_road_factor_at_the_set_speed(settings):
    settings.MALLRUN_ROAD_FACTOR = 1.5
    settings.MALLRUN_SPEED_KMH = 30

    leg = StraightLineProvider().leg(36.0, -115.0, 36.1, -115.0)

    straight = haversine_km(36.0, -115.0, 36.1, -115.0)  # ≈ 11.12 km
    assert leg.km == pytest.approx(straight * 1.5)
    assert leg.minutes == pytest.approx(straight * 1.5 / 30 * 60)  # ≈ 33.4 min
    assert leg.minutes == pytest.approx(33.36, abs=0.01)


def test_travel_uses_the_provider_named_in_settings(settings):
    settings.MALLRUN_TRAVEL_PROVIDER = "retailers.geo.StraightLineProvider"

    assert travel(36.0, -115.0, 36.1, -115.0) == StraightLineProvider().leg(
        36.0, -115.0, 36.1, -115.0
    )


# --- OSRM, against a fake server on this machine ----------------------------------------------


class FakeOsrm:
    """A tiny HTTP server answering every GET with `body`; remembers the paths asked for."""

    def __init__(self, body: bytes):
        self.body = body
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                fake.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(fake.body)))
                self.end_headers()
                self.wfile.write(fake.body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


OK_ROUTE = json.dumps({"code": "Ok", "routes": [{"distance": 12345.0, "duration": 900.0}]})

MALL = (36.1272, -115.1711)
DOOR = (36.1400, -115.1500)


def test_osrm_gives_the_driving_distance_and_time_of_its_first_route():
    with FakeOsrm(OK_ROUTE.encode()) as server:
        leg = OsrmProvider(base_url=server.url + "/", timeout=2).leg(*MALL, *DOOR)

    assert leg == Leg(km=12.345, minutes=15.0)
    assert len(server.paths) == 1
    path, _, query = server.paths[0].partition("?")
    assert path == "/route/v1/driving/-115.171100,36.127200;-115.150000,36.140000"
    assert "overview=false" in query


def test_osrm_reads_its_url_from_settings(settings):
    with FakeOsrm(OK_ROUTE.encode()) as server:
        settings.MALLRUN_OSRM_URL = server.url
        settings.MALLRUN_OSRM_TIMEOUT_SECONDS = 2
        leg = OsrmProvider().leg(*MALL, *DOOR)

    assert leg.km == 12.345
    assert server.paths[0].startswith("/route/v1/driving/-115.171100,36.127200;")


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bad gateway</html>",
        b'{"code": "NoRoute", "message": "Impossible route", "routes": []}',
        b'{"code": "Ok", "routes": []}',
        b'{"code": "Ok", "routes": [{"weight": 1}]}',
    ],
)
def test_a_bad_osrm_answer_falls_back_to_the_straight_line(body):
    with FakeOsrm(body) as server:
        leg = OsrmProvider(base_url=server.url, timeout=2).leg(*MALL, *DOOR)

    assert server.paths  # it did ask
    assert leg == StraightLineProvider().leg(*MALL, *DOOR)


def test_an_osrm_server_that_is_down_falls_back_to_the_straight_line():
    with FakeOsrm(OK_ROUTE.encode()) as server:
        url = server.url  # a port that nothing listens on once the server is closed

    leg = OsrmProvider(base_url=url, timeout=1).leg(*MALL, *DOOR)

    assert leg == StraightLineProvider().leg(*MALL, *DOOR)
