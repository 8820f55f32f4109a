// Draws the review pages' Plotly figures from the JSON the server embedded
// with json_script (the CSP forbids inline scripts). The server aggregated
// everything; this only hands each figure to Plotly. Each drawn figure gets
// data-drawn="true", which the browser tests wait for.
(function () {
  "use strict";

  var CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function draw() {
    var source = document.getElementById("review-figures");
    if (!source || !window.Plotly) { return; }
    var figures = JSON.parse(source.textContent).figures;
    Array.prototype.forEach.call(document.querySelectorAll("[data-review-figure]"), function (el) {
      var f = figures[Number(el.dataset.reviewFigure)];
      if (!f) { return; }
      window.Plotly.newPlot(el, f.figure.data, f.figure.layout, CONFIG).then(function () {
        el.dataset.drawn = "true";
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
