// Draw every chart on the page: <div class="chart" id=X> + <script type="application/json" data-chart-for=X>.
// The options are built on the server (jixiao/charts.py); ECharts 5.6.0 is vendored in static/vendor/.
// JSON cannot hold functions, so the label formatters are added here:
// - a bar's label shows nothing for an empty figure (null or 0);
// - label.minShare (stacked bars): a segment's label shows only when the segment is at least that
//   share of the longest bar, so a figure never spills over its neighbour segment.
// Keys starting with "_" are hints for the page (e.g. _height) and are dropped.
(function () {
  function fmt(v) {
    return typeof v === "number" ? v.toLocaleString("zh-CN", { maximumFractionDigits: 2 }) : String(v);
  }

  function value(p) {
    var v = p.value;
    if (Array.isArray(v)) v = v[v.length - 1];
    return v === null || v === undefined || v === "-" ? null : v;
  }

  function stackTotals(series) {
    var totals = [];
    series.forEach(function (s) {
      if (!s.stack) return;
      (s.data || []).forEach(function (v, i) {
        totals[i] = (totals[i] || 0) + (typeof v === "number" ? Math.abs(v) : 0);
      });
    });
    return totals;
  }

  function prepare(option) {
    Object.keys(option).forEach(function (k) { if (k.charAt(0) === "_") delete option[k]; });
    var series = option.series || [];
    var longest = Math.max.apply(null, [0].concat(stackTotals(series)));
    series.forEach(function (s) {
      var label = s.label;
      if (!label || !label.show || s.type !== "bar" || label.formatter) return;
      var minShare = label.minShare || 0;
      delete label.minShare;
      label.formatter = function (p) {
        var v = value(p);
        if (v === null || v === 0) return "";
        if (minShare && longest && Math.abs(v) < minShare * longest) return "";
        return fmt(v);
      };
    });
    return option;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts) return;
    document.querySelectorAll("script[data-chart-for]").forEach(function (el) {
      var target = document.getElementById(el.getAttribute("data-chart-for"));
      if (!target) return;
      var chart = echarts.init(target, null, { renderer: "canvas" });
      chart.setOption(prepare(JSON.parse(el.textContent)));
      target.setAttribute("data-rendered", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  });
})();
