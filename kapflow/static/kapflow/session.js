// Warn two minutes before the idle timeout signs a person out, so nothing typed is lost.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var dialog = document.getElementById("idle-warning");
  if (!idle || !dialog) { return; }
  var warnBefore = Math.min(120, Math.floor(idle / 2));
  var warnTimer, endTimer;
  function schedule() {
    clearTimeout(warnTimer); clearTimeout(endTimer);
    warnTimer = setTimeout(function () {
      if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    }, (idle - warnBefore) * 1000);
    endTimer = setTimeout(function () { window.location.reload(); }, (idle + 1) * 1000);
  }
  document.getElementById("idle-stay").addEventListener("click", function () {
    var token = document.querySelector("meta[name=csrf-token]").getAttribute("content");
    fetch(body.getAttribute("data-keepalive-url"), {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token }
    }).then(function (response) {
      if (response.ok) { dialog.close(); schedule(); } else { window.location.reload(); }
    });
  });
  document.body.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();
