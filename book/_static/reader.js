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
