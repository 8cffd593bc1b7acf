// Driver pages: offer countdowns, the phone's location while the page is open, and the
// coordinates attached to proof of delivery. Everything works without it, just less live.
(function () {
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  // Countdowns: <span data-countdown="SECONDS">; at zero the offer is gone, so reload.
  var timers = document.querySelectorAll("[data-countdown]");
  if (timers.length) {
    var started = Date.now();
    setInterval(function () {
      timers.forEach(function (el) {
        var left = Math.max(0, parseInt(el.getAttribute("data-countdown"), 10) - Math.floor((Date.now() - started) / 1000));
        el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
        if (left === 0 && !el.dataset.done) { el.dataset.done = "1"; setTimeout(function () { location.reload(); }, 1500); }
      });
    }, 1000);
  }

  if (!navigator.geolocation) return;
  var sendUrl = document.body.getAttribute("data-location-url");
  var lastSent = 0;
  function fill(position) {
    document.querySelectorAll("input[name=latitude]").forEach(function (el) { el.value = position.coords.latitude.toFixed(6); });
    document.querySelectorAll("input[name=longitude]").forEach(function (el) { el.value = position.coords.longitude.toFixed(6); });
    if (sendUrl && Date.now() - lastSent > 60000) {
      lastSent = Date.now();
      var body = new URLSearchParams({ latitude: position.coords.latitude.toFixed(6), longitude: position.coords.longitude.toFixed(6) });
      fetch(sendUrl, { method: "POST", body: body, headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" });
    }
  }
  navigator.geolocation.watchPosition(fill, function () {}, { enableHighAccuracy: true, maximumAge: 30000, timeout: 20000 });
})();
