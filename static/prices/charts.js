/* Draws every [data-chart] element of the price pages with ECharts (vendored, no CDN).
   The chart data sits in the element's data-chart attribute (JSON); a table beside each chart
   holds the same numbers for screen readers. */
(function () {
  "use strict";
  function draw(el) {
    var spec = JSON.parse(el.getAttribute("data-chart"));
    var chart = echarts.init(el, null, { renderer: "svg" });
    var option = {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: spec.kind === "bar" ? 90 : 40 },
      xAxis: { type: "category", data: spec.x,
               axisLabel: spec.kind === "bar" ? { rotate: 40, interval: 0 } : {} },
      yAxis: { type: "value", scale: spec.kind === "line", name: spec.unit },
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.kind, data: s.data, connectNulls: false,
                 showSymbol: spec.kind === "line" };
      })
    };
    chart.setOption(option);
    el.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
