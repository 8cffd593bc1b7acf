// "Use my location": fills the hidden coordinates from the browser and submits the form.
// Without JavaScript (or permission) the ZIP code field still works.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-use-location]");
  if (!button) return;
  event.preventDefault();
  var form = button.closest("form");
  var status = document.getElementById(button.getAttribute("data-status"));
  if (!navigator.geolocation) {
    if (status) status.textContent = "Your browser can't share a location. Enter a ZIP code.";
    return;
  }
  if (status) status.textContent = "Finding you…";
  navigator.geolocation.getCurrentPosition(
    function (position) {
      form.querySelector("[name=latitude]").value = position.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = position.coords.longitude.toFixed(6);
      form.submit();
    },
    function () {
      if (status) status.textContent = "We couldn't get your location. Enter a ZIP code instead.";
    },
    { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
  );
});
