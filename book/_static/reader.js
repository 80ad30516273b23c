// Reader tools, offline and dependency-free: figures zoom on click; proofs print expanded.
(function () {
  "use strict";
  function closeZoom() {
    const open = document.querySelector(".rbm-zoom");
    if (open) open.remove();
  }
  document.addEventListener("click", function (event) {
    const zoomed = event.target.closest(".rbm-zoom");
    if (zoomed) { closeZoom(); return; }
    const img = event.target.closest(".bd-article figure img, .bd-article .cell_output img");
    if (!img || img.closest("a")) return;
    const overlay = document.createElement("div");
    overlay.className = "rbm-zoom";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Enlarged figure (click or press Escape to close)");
    const copy = img.cloneNode();
    copy.removeAttribute("width");
    copy.removeAttribute("height");
    overlay.appendChild(copy);
    document.body.appendChild(overlay);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeZoom();
  });
  // A table wider than the column scrolls inside it (reader.css); mark it "rbm-more" while part of
  // it is hidden to the right, so that the page says so (a phone), since a table cut at a column
  // border looks complete. A cut equation or line of code shows that it goes on.
  const SCROLLERS = ".bd-article .pst-scrollable-table-container, .bd-article .table-wrapper";
  function markHidden(el) {
    el.classList.toggle("rbm-more", el.scrollLeft + el.clientWidth < el.scrollWidth - 1);
  }
  document.addEventListener("scroll", function (event) {
    if (event.target instanceof Element && event.target.matches(SCROLLERS)) markHidden(event.target);
  }, true);
  // Re-mark whenever a scroller or its table changes size: a resized window, and MathJax, which
  // typesets after load and widens the tables that hold formulas.
  const sizes = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { markHidden(entry.target.closest(SCROLLERS)); });
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      sizes.observe(el);
      if (el.firstElementChild) sizes.observe(el.firstElementChild);
      markHidden(el);
    });
  });
  // Closed <details> print as their summary only; open every dropdown (proofs, evidence) for
  // printing and restore afterwards. Code toggles (hide-input) stay as they are.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.sd-dropdown:not([open])").forEach(function (d) {
      d.setAttribute("open", "");
      d.dataset.rbmPrintOpened = "1";
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-rbm-print-opened]").forEach(function (d) {
      d.removeAttribute("open");
      delete d.dataset.rbmPrintOpened;
    });
  });
})();
