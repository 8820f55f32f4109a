// The submit page's cost estimate: sends the form as it stands to
// /requests/new/estimate/ (the same checks as a submission, nothing saved)
// and shows each run's credits and time, the total and the budget left.
// Loaded from a file with `defer`: the CSP forbids inline scripts.
(function () {
  "use strict";

  function cell(row, text, numeric) {
    var td = document.createElement("td");
    td.textContent = text;
    if (numeric) { td.className = "num"; }
    row.appendChild(td);
  }

  function seconds(v) {
    if (v < 10) { return Number(v).toPrecision(2) + " s"; }
    if (v < 120) { return Math.round(v) + " s"; }
    return Math.floor(v / 60) + " min " + Math.round(v % 60) + " s";
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
      cell(row, run.credits, true);
      cell(row, seconds(run.seconds), true);
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
        li.textContent = (e.field ? e.field + ": " : "") + e.message;
        box.appendChild(li);
      });
      return;
    }
    box.appendChild(table(body));
    var b = body.budget;
    p.textContent = "Total " + body.total_credits + " credits, about " + seconds(body.total_seconds) +
      ". Budget of " + b.team + " for " + b.period + " (" + (b.hard ? "hard" : "soft") + "): " +
      b.remaining + " of " + b.limit + " credits left (" + b.reserved + " reserved, " + b.spent + " spent).";
    box.appendChild(p);
    var verdict = document.createElement("p");
    verdict.className = body.outcome === "refused" ? "field-error" : "";
    verdict.textContent = body.message;
    box.appendChild(verdict);
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
      fetch(section.dataset.url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (body) { show(box, body, r.ok); }); })
        .catch(function () { box.textContent = "Could not estimate; try again."; })
        .then(function () { button.disabled = false; });
    });
  });
}());
