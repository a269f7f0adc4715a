// The project dashboard's charts, drawn with ECharts from <script type="application/json" id="dashboard-data">
// (see webapp/views/projects.py _charts): the EVM S-curves, one gauge and one sparkline per KPI, the burn-down.
// No inline script: the pages run under a CSP that forbids it.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!window.echarts || !source) { return; }
  var data = JSON.parse(source.textContent);
  var charts = [];
  var COLOURS = { red: "#dc3545", amber: "#ffc107", green: "#198754" };

  function numbers(values) {
    return values.map(function (v) { return v === null || v === undefined ? null : Number(v); });
  }

  function draw(element, option) {
    if (!element) { return; }
    var chart = window.echarts.init(element);
    chart.setOption(option);
    charts.push(chart);
  }

  function lines(element, chart, extra) {
    var axes = [{ type: "value" }];
    if (chart.series.some(function (s) { return s.axis === 1; })) { axes.push({ type: "value" }); }
    draw(element, Object.assign({
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: chart.series.map(function (s) { return s.name; }) },
      grid: { left: 70, right: axes.length > 1 ? 70 : 20, top: 20, bottom: 70 },
      xAxis: { type: "category", data: chart.categories },
      yAxis: axes,
      series: chart.series.map(function (s) {
        return { name: s.name, type: "line", data: numbers(s.data), yAxisIndex: s.axis || 0, connectNulls: false };
      })
    }, extra || {}));
  }

  // The gauge's scale: ratios around 1, percentages 0-100, counts up to twice the critical threshold.
  function scale(kpi) {
    var value = kpi.value === null ? 0 : Number(kpi.value);
    if (kpi.unit === "percent") { return Math.max(100, value); }
    if (kpi.unit === "ratio") { return Math.max(1.5, value * 1.2); }
    return Math.max(Number(kpi.critical) * 2, value * 1.2, 1);
  }

  function bands(kpi, max) {
    var warning = Math.min(Number(kpi.warning) / max, 1), critical = Math.min(Number(kpi.critical) / max, 1);
    if (kpi.direction === "higher_is_better") {
      return [[critical, COLOURS.red], [warning, COLOURS.amber], [1, COLOURS.green]];
    }
    return [[warning, COLOURS.green], [critical, COLOURS.amber], [1, COLOURS.red]];
  }

  function gauge(element, kpi) {
    var max = scale(kpi);
    draw(element, {
      series: [{
        type: "gauge", min: 0, max: max, radius: "95%", center: ["50%", "60%"], startAngle: 200, endAngle: -20,
        axisLine: { lineStyle: { width: 10, color: bands(kpi, max) } },
        axisTick: { show: false }, splitLine: { length: 8 }, axisLabel: { distance: 12, fontSize: 9 },
        pointer: { width: 4 }, title: { show: false },
        detail: { fontSize: 14, offsetCenter: [0, "35%"], formatter: kpi.value === null ? "—" : String(Number(kpi.value)) },
        data: [{ value: kpi.value === null ? 0 : Number(kpi.value), name: kpi.name }]
      }]
    });
  }

  function sparkline(element, kpi) {
    draw(element, {
      tooltip: { trigger: "axis" },
      grid: { left: 4, right: 4, top: 4, bottom: 4 },
      xAxis: { type: "category", show: false, data: kpi.history.categories },
      yAxis: { type: "value", show: false, scale: true },
      series: [{ type: "line", data: numbers(kpi.history.data), showSymbol: false, smooth: true,
                 lineStyle: { width: 1.5, color: COLOURS[kpi.status] || "#6c757d" } }]
    });
  }

  lines(document.getElementById("chart-evm"), data.evm);
  lines(document.getElementById("chart-burn-down"), data.burn_down);
  data.kpis.forEach(function (kpi) {
    gauge(document.querySelector('.kpi-gauge[data-kpi="' + kpi.key + '"]'), kpi);
    sparkline(document.querySelector('.kpi-spark[data-kpi="' + kpi.key + '"]'), kpi);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
