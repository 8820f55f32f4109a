// Parts of a page that change while work runs elsewhere (a campaign's runs).
// Every element with an id and data-refresh-seconds is read again from the
// server after that many seconds, all of them with one request, and swapped
// in whole; it stops once the server renders them without the attribute
// (nothing left running). Forms stay outside these parts, so keyboard focus
// is never pulled from under the user. Errors back off, doubling the wait.
(function () {
  "use strict";

  function parts() {
    return Array.prototype.filter.call(
      document.querySelectorAll("[data-refresh-seconds]"), function (el) { return el.id; });
  }

  function schedule(seconds) {
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var next = 0;
          parts().forEach(function (old) {
            var part = fresh.getElementById(old.id);
            if (!part) { return; }
            old.replaceWith(document.importNode(part, true));
            next = Math.max(next, Number(part.dataset.refreshSeconds) || 0);
          });
          // Tables that changed size may now scroll, or no longer (regions.js).
          window.dispatchEvent(new Event("resize"));
          if (next > 0) { schedule(next); }
        })
        .catch(function () { schedule(Math.min(seconds * 2, 60)); });
    }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var seconds = Math.min.apply(null, parts().map(function (el) {
      return Number(el.dataset.refreshSeconds) || Infinity;
    }));
    if (isFinite(seconds)) { schedule(seconds); }
  });
}());
