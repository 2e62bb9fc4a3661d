// "Copy" buttons for a read-only field shown once (a new API token): data-copy names the
// field's id. Without script (or clipboard access) the button stays hidden and the field can
// be selected and copied by hand; focusing the field selects all of it.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    (function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      if (!field) { return; }
      field.addEventListener("focus", function () { field.select(); });
      if (!navigator.clipboard) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        field.select();
        navigator.clipboard.writeText(field.value).then(
          function () { if (status) { status.textContent = button.getAttribute("data-copied"); } },
          function () { if (status) { status.textContent = button.getAttribute("data-failed"); } }
        );
      });
    })(buttons[i]);
  }
})();
