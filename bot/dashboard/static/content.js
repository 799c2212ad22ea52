/* Inhoud: follows a retraining live on /content/training (the page works without this file:
   reload it). Loaded from /static only (Content-Security-Policy: no inline script). The status
   fragment comes from the server already escaped. */
(function () {
  "use strict";

  function follow(box) {
    var seconds = Math.max(2, Number(box.getAttribute("data-poll-seconds")) || 2);
    var busy = false;
    var timer = null;
    function running() { return box.querySelector('[data-running="1"]') !== null; }
    function tick() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) { window.location.assign("/login"); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (text) {
          if (text === null) { return; }
          box.innerHTML = text;
          if (!running()) {
            window.clearInterval(timer);
            var button = document.getElementById("start-training");
            if (button) { button.disabled = false; }
          }
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { busy = false; });
    }
    if (running()) { timer = window.setInterval(tick, seconds * 1000); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("training-status");
    if (box) { follow(box); }
  });
}());
