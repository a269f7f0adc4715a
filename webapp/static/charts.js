// Charts of the ERP pages: each <div class="erp-chart" data-chart="ID"> is drawn with ECharts from the JSON in
// <script type="application/json" id="ID"> ({categories: [...], series: [{name, data: ["12.50", ...]}]}).
// No inline script: the pages run under a CSP that forbids it.
(function () {
  "use strict";
  if (!window.echarts) { return; }
  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var kind = element.getAttribute("data-kind") || "bar";
    var chart = window.echarts.init(element);
    var series = data.series.map(function (s) {
      return { name: s.name, type: kind, data: s.data.map(Number) };
    });
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: data.series.map(function (s) { return s.name; }) },
      grid: { left: 80, right: 20, bottom: 40 },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: data.categories.length > 6 ? 30 : 0 } },
      yAxis: { type: "value" },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll(".erp-chart").forEach(draw);
})();
