// The submit page's cost estimate: sends the form as it stands to
// /requests/new/estimate/ (the same checks as a submission, nothing saved)
// and shows each run's credits and time, the total and the budget left, and
// warns of a run expected to outlast the deadline.
// Loaded from a file with `defer`: the CSP forbids inline scripts.
(function () {
  "use strict";

  function cell(row, text, numeric) {
    var td = document.createElement("td");
    td.textContent = text;
    if (numeric) { td.className = "num"; }
    row.appendChild(td);
  }

  // An estimate is rough: "< 0.1 s", "about 0.4 s", "about 3 s", "about 4 min",
  // never "0.0080 s" or "0.0 s".
  function seconds(v) {
    v = Number(v);
    if (!(v >= 0.1)) { return "< 0.1 s"; }
    if (v < 1) { return "about " + v.toFixed(1) + " s"; }
    if (v < 120) { return "about " + Math.round(v) + " s"; }
    return "about " + Math.round(v / 60) + " min";
  }

  // Credits to 2 decimals; nothing to pay is "free", a fraction of a hundredth "< 0.01".
  function credits(text) {
    var v = Number(text);
    if (!(v > 0)) { return "free"; }
    return v < 0.01 ? "< 0.01" : v.toFixed(2);
  }

  function creditsWithUnit(text) {
    var c = credits(text);
    return c === "free" ? c : c + " credits";
  }

  // The budget's own figures, to 2 decimals.
  function amount(text) {
    return Number(text).toFixed(2);
  }

  function table(body) {
    var t = document.createElement("table");
    var head = t.createTHead().insertRow();
    ["Solver", "Backend", "Tier", "Qubits", "Credits", "Time"].forEach(function (h, i) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      if (i >= 3) { th.className = "num"; }
      head.appendChild(th);
    });
    var rows = t.createTBody();
    body.runs.forEach(function (run) {
      var row = rows.insertRow();
      cell(row, run.solver);
      cell(row, (run.backend || "worker") + (run.downgraded_from ? " (instead of " + run.downgraded_from + ")" : ""));
      cell(row, run.tier);
      cell(row, run.qubits ? String(run.qubits) : "—", true);
      cell(row, credits(run.credits), true);
      // Where the time comes from: this deployment's similar runs, or the model.
      cell(row, seconds(run.seconds) + (run.seconds_from === "history"
        ? " (median of " + run.similar_runs + " similar runs)" : ""), true);
    });
    return t;
  }

  function show(box, body, ok) {
    box.textContent = "";
    var p = document.createElement("p");
    if (!ok) {
      p.className = "field-error";
      p.textContent = body.detail || "Could not estimate.";
      box.appendChild(p);
      (body.errors || []).forEach(function (e) {
        var li = document.createElement("p");
        li.className = "field-error";
        // The field's label on this page ("Quantum backend"), as the submit shows it.
        var name = e.label || e.field;
        li.textContent = (name ? name + ": " : "") + e.message;
        box.appendChild(li);
      });
      return;
    }
    box.appendChild(table(body));
    var b = body.budget;
    p.textContent = "Total: " + creditsWithUnit(body.total_credits) + ", " + seconds(body.total_seconds) +
      ". Budget of " + b.team + " for " + b.period + " (" + (b.hard ? "hard" : "soft") + "): " +
      amount(b.remaining) + " of " + amount(b.limit) + " credits left (" + amount(b.reserved) +
      " reserved, " + amount(b.spent) + " spent).";
    box.appendChild(p);
    var verdict = document.createElement("p");
    verdict.className = body.outcome === "refused" ? "field-error" : "";
    verdict.textContent = body.message;
    box.appendChild(verdict);
    // A run expected to outlast the deadline would be cut off: say so before submitting.
    (body.warnings || []).forEach(function (text) {
      var warning = document.createElement("p");
      warning.className = "field-error";
      warning.textContent = "Warning: " + text;
      box.appendChild(warning);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("estimate");
    var button = document.getElementById("estimate-button");
    var box = document.getElementById("estimate-result");
    if (!section || !button || !box) { return; }
    var form = section.closest("form");
    button.addEventListener("click", function () {
      button.disabled = true;
      box.textContent = "Estimating…";
      // FormData carries the CSRF token field of the form.
      if (window.hrFreshToken) { window.hrFreshToken(form); }
      fetch(section.dataset.url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (r) {
          // Signed out meanwhile: the answer is the login page, not an estimate.
          if (r.redirected && r.url.indexOf("/accounts/login/") !== -1) {
            box.textContent = "You are signed out. Sign in again in another tab, then estimate: what you typed here stays.";
            return;
          }
          return r.json().then(function (body) { show(box, body, r.ok); });
        })
        .catch(function () { box.textContent = "Could not estimate; try again."; })
        .then(function () { button.disabled = false; });
    });
  });
}());
