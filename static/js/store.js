// Retailer portal: a visible and audible alert when a new order reaches the board, and the
// pick list's print button. Served as a static file (CSP: script-src 'self').
(function () {
  "use strict";
  var SOUND_KEY = "mallrun-store-sound";
  var audio = null;

  function soundWanted() {
    try { return localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; }
  }

  function ensureAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume();
    return audio;
  }

  // Two short tones: loud enough for a busy counter, short enough not to annoy.
  function beep() {
    if (!soundWanted()) return;
    var ctx = ensureAudio();
    if (!ctx) return;
    [0, 0.25].forEach(function (offset, i) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = i ? 1175 : 880;
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + offset + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + offset);
      osc.stop(ctx.currentTime + offset + 0.22);
    });
    window.mallrunBeeps = (window.mallrunBeeps || 0) + 1;
  }

  function newOrders(root) {
    var numbers = [];
    (root || document).querySelectorAll("[data-new-order]").forEach(function (el) {
      numbers.push(el.getAttribute("data-new-order"));
    });
    return numbers;
  }

  var seen = null;

  function checkBoard() {
    var board = document.getElementById("board");
    if (!board) return;
    var now = newOrders(board);
    if (seen === null) { seen = now; return; }
    var fresh = now.filter(function (n) { return seen.indexOf(n) === -1; });
    seen = now;
    if (!fresh.length) return;
    var alertBox = document.getElementById("new-order-alert");
    if (alertBox) {
      alertBox.textContent = (fresh.length === 1 ? "New order " : "New orders ") + fresh.join(", ");
      alertBox.hidden = false;
    }
    fresh.forEach(function (n) {
      var card = board.querySelector('[data-new-order="' + n + '"]');
      if (card) card.classList.add("fresh");
    });
    document.title = "● " + document.title.replace(/^● /, "");
    beep();
  }

  function setupSoundToggle() {
    var button = document.getElementById("sound-toggle");
    if (!button) return;
    function show() {
      var on = soundWanted();
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Sound alerts on (tap to mute)" : "Turn on sound alerts";
    }
    button.addEventListener("click", function () {
      try { localStorage.setItem(SOUND_KEY, soundWanted() ? "off" : "on"); } catch (e) {}
      if (soundWanted()) { ensureAudio(); beep(); }
      show();
    });
    // Browsers only start audio after a gesture: any tap on the page unlocks it.
    document.addEventListener("pointerdown", function () { if (soundWanted()) ensureAudio(); }, { once: true });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupSoundToggle();
    checkBoard();
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    var alertBox = document.getElementById("new-order-alert");
    if (alertBox) alertBox.addEventListener("click", function () { alertBox.hidden = true; });
  });
  document.addEventListener("htmx:afterSettle", checkBoard);
})();
