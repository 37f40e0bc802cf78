// Progressive enhancement only: every page works without this file.
// Disable a form's submit buttons after the first submit so a double tap sends one request;
// the server stays idempotent regardless.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.submitted === "true") { event.preventDefault(); return; }
  form.dataset.submitted = "true";
  var submitter = event.submitter;
  // Keep the clicked button's name/value in the request: disabled buttons are not submitted.
  if (submitter && submitter.name) {
    var carrier = document.createElement("input");
    carrier.type = "hidden"; carrier.name = submitter.name; carrier.value = submitter.value;
    form.appendChild(carrier);
  }
  window.setTimeout(function () {
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
      b.disabled = true; b.setAttribute("aria-disabled", "true");
    });
  }, 0);
});
