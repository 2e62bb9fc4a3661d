// The session clock: time since the first administration, ticking each second.
// The server renders the same figure in minutes, so the page reads right without script.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var clocks = document.querySelectorAll("[data-clock-since]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var since = Date.parse(el.getAttribute("data-clock-since"));
      var until = el.getAttribute("data-clock-until");
      var end = until ? Date.parse(until) : Date.now();
      if (isNaN(since)) { continue; }
      var s = Math.max(0, Math.floor((end - since) / 1000));
      el.textContent = pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
