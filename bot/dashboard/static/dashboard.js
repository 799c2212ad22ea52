/* Live updates for the dashboard; everything also works without this file (reload, or the
   queue's <noscript> refresh). Loaded from /static only (Content-Security-Policy: no inline
   script). Fragments come from the server already escaped. */
(function () {
  "use strict";

  function poll(url, seconds, onText) {
    var busy = false;
    function tick() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) { window.location.assign("/login"); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (text) { if (text !== null) { onText(text); } })
        .catch(function () { /* offline for a moment: the next tick tries again */ })
        .then(function () { busy = false; });
    }
    window.setInterval(tick, Math.max(2, seconds) * 1000);
  }

  function ids(rows, severity) {
    var out = {};
    Array.prototype.forEach.call(rows.querySelectorAll("tr[data-case-id]"), function (row) {
      if (!severity || row.getAttribute("data-severity") === severity) {
        out[row.getAttribute("data-case-id")] = row.getAttribute("data-pseudonym") || "";
      }
    });
    return out;
  }

  function queue(table) {
    var rows = document.getElementById("queue-rows");
    var banner = document.getElementById("acute-banner");
    var acuteLive = document.getElementById("queue-live-acute");
    var politeLive = document.getElementById("queue-live");
    var known = ids(rows);
    var title = document.title;
    poll(table.getAttribute("data-rows-url"), Number(table.getAttribute("data-poll-seconds")) || 5, function (html) {
      rows.innerHTML = html;
      var now = ids(rows);
      var acute = ids(rows, "acute");
      var newAcute = Object.keys(acute).filter(function (id) { return !(id in known); });
      var newOther = Object.keys(now).filter(function (id) { return !(id in known) && !(id in acute); });
      Object.keys(now).forEach(function (id) {
        if (!(id in known)) {
          var row = rows.querySelector('tr[data-case-id="' + id + '"]');
          if (row) { row.classList.add("is-new"); }
        }
      });
      if (newAcute.length) {
        banner.hidden = false;
        banner.textContent = "Nieuwe acute melding: code " + newAcute.map(function (id) { return acute[id]; }).join(", ") + ".";
        acuteLive.textContent = banner.textContent;
        document.title = "(!) " + title;
      } else if (newOther.length) {
        politeLive.textContent = newOther.length === 1 ? "Er is een nieuwe melding." : "Er zijn " + newOther.length + " nieuwe meldingen.";
      }
      known = now;
    });
    window.addEventListener("focus", function () { document.title = title; });
  }

  function transcript(list) {
    var live = document.getElementById("transcript-live");
    function count() { return list.querySelectorAll('li[data-who="jongere"]').length; }
    var seen = count();
    poll(list.getAttribute("data-url"), Number(list.getAttribute("data-poll-seconds")) || 3, function (html) {
      if (html === list.innerHTML) { return; }
      list.innerHTML = html;
      var now = count();
      if (now > seen && live) { live.textContent = "Nieuw bericht van de jongere."; }
      seen = now;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("queue");
    if (table && table.getAttribute("data-rows-url")) { queue(table); }
    var list = document.getElementById("transcript");
    if (list && list.getAttribute("data-url")) { transcript(list); }
  });
}());
