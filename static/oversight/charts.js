/* Regulator workspace charts (Apache ECharts, vendored). No inline script: each chart is a
   <div class="chart" data-chart="kind" data-series='JSON'>, with a table beside it. */
(function () {
  "use strict";

  function bars(el, d) {
    var scale = d.scale || 1;
    return {
      tooltip: {trigger: "axis"},
      grid: {left: 80, right: 20, bottom: 40, top: 20},
      xAxis: {type: "category", data: d.labels},
      yAxis: {type: "value", name: d.unit},
      series: [{type: "bar", data: d.values.map(function (v) { return v / scale; })}]
    };
  }

  function sankey(el, d) {
    // Origins and destinations are separate nodes, so a city sending to itself draws no cycle.
    var nodes = {}, links = {};
    d.links.forEach(function (f) {
      var src = f.origin_name + " (" + d.from + ")", dst = f.destination_name + " (" + d.to + ")";
      nodes[src] = true; nodes[dst] = true;
      var key = src + "\u0000" + dst;
      links[key] = links[key] || {source: src, target: dst, value: 0, cats: []};
      links[key].value += f.kg / 1000;
      links[key].cats.push(f.category + " " + (f.kg / 1000).toFixed(3) + " t");
    });
    return {
      tooltip: {trigger: "item", formatter: function (p) {
        return p.dataType === "edge" ? p.data.source + " → " + p.data.target + "<br>" +
          p.data.cats.join("<br>") : p.name; }},
      series: [{type: "sankey", emphasis: {focus: "adjacency"}, nodeAlign: "left",
        data: Object.keys(nodes).map(function (n) { return {name: n}; }),
        links: Object.keys(links).map(function (k) { return links[k]; })}]
    };
  }

  function capacity(el, d) {
    var rows = d.rows, l = d.labels;
    function col(name) { return rows.map(function (r) { return r[name] / 1000; }); }
    return {
      tooltip: {trigger: "axis"},
      legend: {data: [l.licensed, l.reserved, l.received, l.demand]},
      grid: {left: 80, right: 20, bottom: 60, top: 40},
      xAxis: {type: "category", data: rows.map(function (r) { return r.category + " " + r.region_name; }),
              axisLabel: {rotate: 30}},
      yAxis: {type: "value", name: "t"},
      series: [
        {name: l.licensed, type: "bar", data: col("licensed_kg")},
        {name: l.reserved, type: "bar", data: col("reserved_kg")},
        {name: l.received, type: "bar", data: col("received_kg")},
        {name: l.demand, type: "bar", data: col("open_demand_kg"),
         itemStyle: {color: function (p) { return rows[p.dataIndex].short ? "#c0392b" : "#e67e22"; }}}
      ]
    };
  }

  // The published index (market/prices/charts.py): {kind: "line"|"bar", x, unit, series: [{name, data}]}.
  function series(el, d) {
    return {
      tooltip: {trigger: "axis"},
      legend: {top: 0},
      grid: {left: 60, right: 20, top: 40, bottom: 40},
      xAxis: {type: "category", data: d.x},
      yAxis: {type: "value", scale: d.kind === "line", name: d.unit},
      series: d.series.map(function (s) {
        return {name: s.name, type: d.kind, data: s.data, connectNulls: false,
                showSymbol: d.kind === "line"};
      })
    };
  }

  var KINDS = {bars: bars, sankey: sankey, capacity: capacity, series: series};

  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      var make = KINDS[el.getAttribute("data-chart")];
      if (!make) { return; }
      var chart = window.echarts.init(el, null, {renderer: "svg"});
      var option = make(el, JSON.parse(el.getAttribute("data-series")));
      option.animation = false;  // drawn at once: what a screenshot or a screen reader meets is final
      chart.setOption(option);
      el.setAttribute("data-rendered", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
