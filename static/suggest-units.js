// Suggest unit names as they are typed on /compare (JSON API of the reports table); the form
// works without it. Loaded from static/ (Content-Security-Policy script-src 'self'); the API URL
// comes from <datalist id="unit-names" data-api="…"> (templates/compare.html).
(function () {
  var list = document.getElementById("unit-names");
  if (!list) return;
  var api = list.getAttribute("data-api"), timer = null;
  document.querySelectorAll("[data-suggest-units]").forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var v = input.value.split(/[,，、]/).pop().trim();
      if (!v) return;
      timer = setTimeout(function () {
        fetch(api + "?" + new URLSearchParams({unit_name__contains: v, _col: "unit_name", _size: "30",
                                              _shape: "array", _nofacet: "1", _nocount: "1"}))
          .then(function (r) { return r.json(); })
          .then(function (rows) {
            var seen = {};
            list.replaceChildren.apply(list, rows.filter(function (r) {
              return !seen[r.unit_name] && (seen[r.unit_name] = true);
            }).map(function (r) { var o = document.createElement("option"); o.value = r.unit_name; return o; }));
          });
      }, 200);
    });
  });
})();
