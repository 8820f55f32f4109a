// A table too wide (or tall) for its card scrolls inside its .table-wrap. A
// region that scrolls must be reachable and scrollable by keyboard (WCAG
// 2.1.1), so such a wrapper becomes a focusable, named region; one that fits
// stays out of the tab order. Re-checked when the window is resized. A
// wrapper the template already made a region (tabindex in the markup) is
// left as it is.
(function () {
  "use strict";

  function name(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption) { return caption.textContent.trim() + " (table, scrolls)"; }
    var section = wrap.closest("section, main");
    var heading = section && section.querySelector("h1, h2, h3");
    return (heading ? heading.textContent.trim() : "Table") + " (table, scrolls)";
  }

  function update() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (wrap) {
      if (wrap.hasAttribute("tabindex") && !wrap.dataset.autoRegion) { return; }
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1 || wrap.scrollHeight > wrap.clientHeight + 1;
      if (scrolls && !wrap.dataset.autoRegion) {
        wrap.dataset.autoRegion = "true";
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", name(wrap));
      } else if (!scrolls && wrap.dataset.autoRegion) {
        delete wrap.dataset.autoRegion;
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) { window.cancelAnimationFrame(pending); }
    pending = window.requestAnimationFrame(function () { pending = null; update(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
  window.addEventListener("resize", later);
}());
