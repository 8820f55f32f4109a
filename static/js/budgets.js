// Draws the budgets page's Plotly figures from the JSON the server embedded
// with json_script (the CSP forbids inline scripts). Without JavaScript the
// tables on the page carry the same numbers.
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || !window.Plotly) { return; }
    var figure = JSON.parse(source.textContent);
    if (!figure.data.length) {
      el.textContent = "Nothing settled yet.";
      el.classList.add("muted");
      return;
    }
    window.Plotly.newPlot(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-figure]"), draw);
  });
}());
