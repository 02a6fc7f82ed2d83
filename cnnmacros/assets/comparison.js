// The comparison table (cnnmacros/compare.py): a click on a heading sorts by that column, again
// the other way; the family filter hides the other rows and the other points of the charts.
// Counts are compared exactly, as BigInt from their digits (data-sort); no number is computed.
(function () {
  "use strict";
  function compare(kind, a, b) {
    if (a === "" || b === "") return a === b ? 0 : a === "" ? 1 : -1; // no value: last
    if (kind === "int") {
      const x = BigInt(a), y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (kind === "num") return Number(a) - Number(b);
    return a.localeCompare(b);
  }
  function setUp(root) {
    const table = root.querySelector(".cnn-compare table");
    if (!table || table.dataset.ready) return;
    table.dataset.ready = "1";
    const body = table.tBodies[0];
    table.querySelectorAll("thead th").forEach(function (th, column) {
      const button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        const down = th.getAttribute("aria-sort") === "ascending";
        table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        const rows = Array.from(body.rows);
        rows.sort(function (r, s) {
          const order = compare(th.dataset.kind, r.cells[column].dataset.sort, s.cells[column].dataset.sort);
          return down ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    const filter = root.querySelector(".cnn-compare-filter");
    if (filter) {
      filter.addEventListener("change", function () {
        const family = filter.value;
        Array.from(body.rows).forEach(function (row) {
          row.hidden = family !== "" && row.dataset.family !== family;
        });
        root.querySelectorAll(".cnn-point").forEach(function (point) {
          point.style.opacity = family === "" || point.dataset.family === family ? "" : "0.12";
        });
      });
    }
  }
  function ready() { setUp(document); }
  if (window.document$ && window.document$.subscribe) window.document$.subscribe(ready); // Material's instant pages
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
