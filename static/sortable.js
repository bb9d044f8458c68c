// Client-side sorting of the site's own tables (<table data-sortable id=…>), with the sort kept in
// the URL so a sorted table can be bookmarked and shared: ?sort=<table id>:<column> (ascending) or
// ?sort=<table id>:-<column> (descending), one sort parameter per sorted table, restored on load.
// <column> is the header's data-col (a stable column name) or else its 1-based position.
// Rows with class "total" stay where they are (a 合计 row is not a unit). Loaded from static/
// because the Content-Security-Policy forbids inline script.
(function () {
  var collator = new Intl.Collator("zh-CN", { numeric: true });

  function cellValue(td) {
    if (!td) return null;
    var raw = td.hasAttribute("data-sort-value") ? td.getAttribute("data-sort-value") : td.textContent;
    var text = raw.replace(/\s+/g, " ").trim();
    if (text === "" || text === "—") return null;
    if (td.classList.contains("n") || td.hasAttribute("data-sort-value")) {
      var m = text.replace(/,/g, "").match(/[-+]?\d+(?:\.\d+)?/);
      if (m) return parseFloat(m[0]);
    }
    return text;
  }

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null) return 1; // empty cells last, whichever the direction
    if (b === null) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return collator.compare(String(a), String(b));
  }

  function keyOf(th, index) {
    return th.getAttribute("data-col") || String(index + 1);
  }

  function readSorts() {
    var out = {};
    new URLSearchParams(location.search).getAll("sort").forEach(function (v) {
      var i = v.indexOf(":");
      if (i > 0) out[v.slice(0, i)] = v.slice(i + 1);
    });
    return out;
  }

  function writeSort(tableId, spec) {
    var params = new URLSearchParams(location.search);
    var kept = params.getAll("sort").filter(function (v) { return v.indexOf(tableId + ":") !== 0; });
    params.delete("sort");
    kept.forEach(function (v) { params.append("sort", v); });
    if (spec) params.append("sort", tableId + ":" + spec);
    var qs = params.toString();
    history.replaceState(history.state, "", location.pathname + (qs ? "?" + qs : "") + location.hash);
  }

  function sortTable(table, headers, spec) {
    var desc = spec.charAt(0) === "-";
    var key = desc ? spec.slice(1) : spec;
    var index = -1;
    headers.forEach(function (th, i) { if (keyOf(th, i) === key) index = i; });
    if (index < 0) return false;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var movable = rows.filter(function (r) { return !r.classList.contains("total"); });
    var sorted = movable.map(function (r, i) { return { row: r, value: cellValue(r.cells[index]), i: i }; });
    sorted.sort(function (a, b) {
      if (a.value === null || b.value === null) return compare(a.value, b.value) || a.i - b.i;
      return (desc ? -compare(a.value, b.value) : compare(a.value, b.value)) || a.i - b.i;
    });
    var slots = rows.map(function (r) { return r.classList.contains("total") ? r : null; });
    var next = 0;
    slots = slots.map(function (r) { return r || sorted[next++].row; });
    slots.forEach(function (r) { body.appendChild(r); });
    headers.forEach(function (th, i) {
      if (i === index) th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
    return true;
  }

  function setUp(table) {
    if (!table.id || !table.tHead || !table.tBodies.length) return;
    var headers = Array.prototype.slice.call(table.tHead.rows[table.tHead.rows.length - 1].cells);
    headers.forEach(function (th, i) {
      th.setAttribute("data-sort-key", keyOf(th, i));
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      button.title = "点击排序";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var key = keyOf(th, i);
        // numbers start from the largest (the usual question), text from 甲 to 乙
        var numeric = table.tBodies[0].rows.length && table.tBodies[0].rows[0].cells[i] &&
          table.tBodies[0].rows[0].cells[i].classList.contains("n");
        var current = th.getAttribute("aria-sort");
        var desc = current ? current === "ascending" : numeric;
        var spec = (desc ? "-" : "") + key;
        sortTable(table, headers, spec);
        writeSort(table.id, spec);
      });
    });
    var spec = readSorts()[table.id];
    if (spec) sortTable(table, headers, spec);
  }

  function start() {
    document.querySelectorAll("table[data-sortable]").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
