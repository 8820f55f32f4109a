// A form carries the CSRF token of the sign-in it was drawn in. Signing in
// again (in another tab, after the session ended) rotates the token, and the
// old form's submit then failed with a 403 page, losing what was typed.
// Each POST form takes the current token from the cookie as it is sent
// (Django accepts the cookie's secret as the form's token), and so does any
// script that posts a form's fields itself (window.hrFreshToken(form)).
(function () {
  "use strict";

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  function fresh(form) {
    var token = cookie("csrftoken");
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (token && input) { input.value = token; }
  }

  window.hrFreshToken = fresh;
  // Capture: before submit-once.js and any other submit handler.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.method.toLowerCase() === "post") { fresh(form); }
  }, true);
}());
