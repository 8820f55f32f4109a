// A form that changes something is sent once per deliberate click. A quick
// double-click sent it twice: two requests (and two reservations), two
// re-runs, two comments, or an approval whose second copy answered 409 and
// showed the approver an error for a signature that had worked.
// The first submit marks the form; a second one while the page is still
// waiting is dropped, and its buttons say so. Coming back to the page
// (the back button, bfcache) clears the mark. GET forms (filters) are left alone.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") { return; }
    if (event.defaultPrevented) { return; }  // another script handles this submit
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "true";
    form.setAttribute("aria-busy", "true");
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit], button:not([type])"), function (b) {
      b.setAttribute("aria-disabled", "true");
    });
  });

  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submitting]"), function (form) {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
      Array.prototype.forEach.call(form.querySelectorAll("[aria-disabled]"), function (b) {
        b.removeAttribute("aria-disabled");
      });
    });
  });
}());
