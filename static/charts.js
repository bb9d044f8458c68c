// Draw every chart on the page: <div class="chart" id=X> + <script type="application/json" data-chart-for=X>.
// The options are built on the server (plugins/*.py); ECharts 5.6.0 is vendored in static/vendor/.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll("script[data-chart-for]").forEach(function (el) {
    var target = document.getElementById(el.getAttribute("data-chart-for"));
    if (!target) return;
    var chart = echarts.init(target, null, { renderer: "canvas" });
    chart.setOption(JSON.parse(el.textContent));
    target.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
