// Data for Datasette's own scripts, without inline <script> code.
//
// The site sends Content-Security-Policy: script-src 'self' (plugins/http_headers.py), so no
// inline script runs. Datasette's templates hand data to their scripts in inline blocks
// (window.datasetteVersion = …, window._datasetteTableData = …); the site's templates put the
// same data in non-executable blocks instead:
//   <meta name="datasette-version" content="…">
//   <script type="application/json" data-window="_datasetteTableData">{…}</script>
// and this file (loaded with defer, before Datasette's deferred scripts) copies them onto
// window. Only the names below are copied.
(function () {
  var NAMES = ["_datasetteTableData", "DATASETTE_ALLOW_FACET", "_datasetteDatabaseData",
               "_columnChooserData", "_setColumnTypeData"];
  var version = document.querySelector('meta[name="datasette-version"]');
  if (version) window.datasetteVersion = version.getAttribute("content");
  document.querySelectorAll('script[type="application/json"][data-window]').forEach(function (el) {
    var name = el.getAttribute("data-window");
    if (NAMES.indexOf(name) === -1) return;
    try {
      window[name] = JSON.parse(el.textContent);
    } catch (e) {
      console.error("page-data.js: cannot read " + name, e);
    }
  });
})();
