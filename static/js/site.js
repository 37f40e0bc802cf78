// Progressive enhancement only: every page works without this file (the browser tests prove it).
// Disable a form's submit buttons after the first submit so a double tap sends one request;
// the server stays idempotent regardless.
(function () {
  "use strict";

  function buttonsOf(form) {
    return form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) { return; }
    if (form.dataset.submitted === "true") { event.preventDefault(); return; }
    form.dataset.submitted = "true";
    form.setAttribute("aria-busy", "true");
    var submitter = event.submitter;
    // Keep the clicked button's name/value in the request: disabled buttons are not submitted.
    if (submitter && submitter.name) {
      var carrier = document.createElement("input");
      carrier.type = "hidden"; carrier.name = submitter.name; carrier.value = submitter.value;
      carrier.dataset.submitter = "true";
      form.appendChild(carrier);
    }
    // After this tick, so the browser has taken the submitter before it is disabled.
    window.setTimeout(function () {
      buttonsOf(form).forEach(function (b) {
        b.disabled = true; b.setAttribute("aria-disabled", "true");
      });
    }, 0);
  });

  // Back/forward cache: a page restored after "Back" must not show dead buttons.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-submitted=true]").forEach(function (form) {
      delete form.dataset.submitted;
      form.removeAttribute("aria-busy");
      form.querySelectorAll("input[data-submitter=true]").forEach(function (i) { i.remove(); });
      buttonsOf(form).forEach(function (b) { b.disabled = false; b.removeAttribute("aria-disabled"); });
    });
  });
})();
