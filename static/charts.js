// Draw every chart on the page: <div class="chart" id=X> + <script type="application/json" data-chart-for=X>.
// The options are built on the server (jixiao/charts.py); ECharts 5.6.0 is vendored in static/vendor/.
// JSON cannot hold functions, so the label formatters are added here:
// - a bar's label shows nothing where there is no figure (null); a 0 beside its bar is shown;
// - label.minShare: a bar's (or stacked segment's) label shows only when it is at least that share
//   of the longest bar on its axis, so a figure never spills out of its own bar or segment.
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

  // The longest bar: a stack's total, or a single bar (per value axis: a second axis has its own scale).
  function longestBars(series) {
    var totals = {}, longest = {};
    series.forEach(function (s) {
      var axis = s.yAxisIndex || s.xAxisIndex || 0;
      (s.data || []).forEach(function (v, i) {
        var x = typeof v === "number" ? Math.abs(v) : 0;
        var key = s.stack ? axis + "/" + s.stack + "/" + i : null;
        if (key) x = totals[key] = (totals[key] || 0) + x;
        longest[axis] = Math.max(longest[axis] || 0, x);
      });
    });
    return longest;
  }

  function prepare(option) {
    Object.keys(option).forEach(function (k) { if (k.charAt(0) === "_") delete option[k]; });
    option.animation = false; // a chart is read, not watched (and screenshots show it drawn)
    var series = option.series || [];
    var longestOn = longestBars(series);
    series.forEach(function (s) {
      var longest = longestOn[s.yAxisIndex || s.xAxisIndex || 0];
      var label = s.label;
      if (!label || !label.show || s.type !== "bar" || label.formatter) return;
      var minShare = label.minShare || 0;
      delete label.minShare;
      label.formatter = function (p) {
        var v = value(p);
        if (v === null) return "";
        if (minShare && (v === 0 || (longest && Math.abs(v) < minShare * longest))) return "";
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
