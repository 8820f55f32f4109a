// Live status for the request pages: polls the JSON API and updates rows in
// place. Loaded with `defer` from a file (the CSP forbids inline scripts).
// Without JavaScript the pages still show the state as of their last load.
(function () {
  "use strict";

  var POLL_MS = 2500;
  var ACTIVE = ["submitted", "running", "queued"];
  // The server's status labels and badge classes (jobs/templatetags/jobs_tags.py),
  // rendered into every page by base.html, so a badge updated here reads
  // exactly as one the server rendered: "Ready for review", "Timed out".
  var STATUSES = (function () {
    var el = document.getElementById("status-labels");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  }());
  var LABELS = STATUSES.labels || {};
  var CLASSES = STATUSES.classes || {};

  function label(status) {
    if (LABELS[status]) { return LABELS[status]; }
    var s = status.replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function setBadge(el, status, prefix) {
    if (!el) { return; }
    el.className = "badge " + (CLASSES[status] || "info");
    el.textContent = (prefix ? prefix + ": " : "") + label(status);
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function seconds(v) {
    // Same as the `seconds` filter in jobs/templatetags/jobs_tags.py.
    if (v === null || v === undefined) { return "—"; }
    if (v < 0.01) { return String(Number((v * 1000).toPrecision(2))) + " ms"; }
    if (v < 1) { return Math.round(v * 1000) + " ms"; }
    if (v < 10) { return Number(v).toPrecision(3) + " s"; }
    if (v < 120) { return Math.round(v) + " s"; }
    return Math.floor(v / 60) + " min " + Math.floor(v % 60) + " s";
  }

  function runBadges(cell, runs) {
    cell.textContent = "";
    runs.forEach(function (run) {
      var b = document.createElement("span");
      setBadge(b, run.status, run.solver);
      b.title = run.solver + (run.backend ? " on " + run.backend : "");
      cell.appendChild(b);
      cell.appendChild(document.createTextNode(" "));
    });
  }

  // The list: refresh the visible page's rows while any of them is active.
  function pollList(table) {
    var rows = table.querySelectorAll("tr[data-request-id]");
    var active = Array.prototype.some.call(rows, function (row) {
      return ACTIVE.indexOf(row.dataset.status) >= 0;
    });
    if (!active) { return; }
    var status = document.getElementById("poll-status");
    // The page's own filters, and its page in its own page size: the API's
    // default size differs, so "?page=2" alone would name other rows (or none).
    var params = new URLSearchParams(window.location.search);
    params.set("page", table.dataset.page || "1");
    params.set("page_size", table.dataset.pageSize || "25");
    getJSON(table.dataset.pollUrl + "?" + params.toString()).then(function (body) {
      body.results.forEach(function (item) {
        var row = table.querySelector('tr[data-request-id="' + item.id + '"]');
        if (!row) { return; }
        row.dataset.status = item.status;
        setBadge(row.querySelector('[data-field="status"]'), item.status);
        runBadges(row.querySelector('[data-field="runs"]'), item.runs);
      });
      if (status) { status.textContent = "Updated " + new Date().toLocaleTimeString(); }
      window.setTimeout(function () { pollList(table); }, POLL_MS);
    }).catch(function () {
      if (status) { status.textContent = "Live updates paused; reload to see the latest."; }
    });
  }

  // One request: update its runs; reload once it is finished, to show candidates.
  function pollRequest(box) {
    getJSON(box.dataset.pollUrl).then(function (item) {
      setBadge(document.getElementById("request-status"), item.status);
      item.runs.forEach(function (run) {
        var row = document.querySelector('tr[data-run-id="' + run.id + '"]');
        if (!row) { return; }
        setBadge(row.querySelector('[data-field="status"]'), run.status);
        row.querySelector('[data-field="attempt"]').textContent = run.attempt + " / " + run.max_attempts;
        row.querySelector('[data-field="tier"]').textContent = run.tier || "—";
        row.querySelector('[data-field="total"]').textContent = seconds(run.timings.total);
        row.querySelector('[data-field="queued"]').textContent = seconds(run.timings.queued);
        row.querySelector('[data-field="error"]').textContent = run.error ? run.error.message : "";
      });
      if (ACTIVE.indexOf(item.status) >= 0) {
        window.setTimeout(function () { pollRequest(box); }, POLL_MS);
      } else {
        window.location.reload();
      }
    }).catch(function () { /* keep the page as rendered */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("request-table");
    if (table) { window.setTimeout(function () { pollList(table); }, POLL_MS); }
    var box = document.getElementById("request");
    if (box && box.dataset.active === "true") {
      window.setTimeout(function () { pollRequest(box); }, POLL_MS);
    }
  });
}());
