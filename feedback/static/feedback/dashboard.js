// Draws the manager's dashboard charts with the vendored Chart.js.
// The numbers come from the page's json_script element #dashboard-charts
// (see DashboardReport.charts), so the page needs no inline script and a
// strict content security policy holds. Each chart has a table beside it.
(function () {
  "use strict";

  var PALETTE = ["#2457d6", "#b42318", "#b54708", "#067647", "#6941c6", "#c11574",
                 "#0e9384", "#5b6474", "#854a0e", "#3e4784"];

  function css(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    config.options = Object.assign({
      responsive: true,
      maintainAspectRatio: false,
      animation: false
    }, config.options || {});
    new window.Chart(canvas, config);
  }

  function draw() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var brand = css("--brand", "#2457d6");
    var ok = css("--ok", "#067647");
    var muted = css("--muted", "#5b6474");
    var ticks = { color: muted };

    chart("funnel-chart", {
      type: "bar",
      data: {
        labels: data.funnel.labels,
        datasets: [{ label: "Leads", data: data.funnel.counts, backgroundColor: brand,
                     borderRadius: 3, maxBarThickness: 34 }]
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { color: muted, precision: 0 } },
                  y: { ticks: ticks, grid: { display: false } } }
      }
    });

    // The target band is two flat lines, the space between them filled.
    var low = data.acceptance.band[0];
    var high = data.acceptance.band[1];
    var flat = function (value) { return data.acceptance.labels.map(function () { return value; }); };
    chart("acceptance-chart", {
      type: "line",
      data: {
        labels: data.acceptance.labels,
        datasets: [
          { label: "Target band " + low + "\u2013" + high + " %", data: flat(low),
            borderColor: "rgba(6, 118, 71, 0.35)", borderWidth: 1, pointRadius: 0,
            fill: false },
          { label: "_band top", data: flat(high), borderColor: "rgba(6, 118, 71, 0.35)",
            borderWidth: 1, pointRadius: 0, backgroundColor: "rgba(6, 118, 71, 0.12)",
            fill: "-1" },
          { label: "Acceptance %", data: data.acceptance.rates, borderColor: brand,
            backgroundColor: brand, pointRadius: 3, spanGaps: false, fill: false }
        ]
      },
      options: {
        plugins: {
          legend: { labels: { color: muted, filter: function (item) {
            return item.text.indexOf("_") !== 0;
          } } },
          tooltip: { filter: function (item) { return item.datasetIndex === 2; } }
        },
        scales: { x: { ticks: { color: muted, maxRotation: 0, autoSkip: true } },
                  y: { min: 0, max: 100, ticks: { color: muted, callback: function (v) {
                    return v + " %";
                  } } } }
      }
    });

    chart("volume-chart", {
      type: "bar",
      data: {
        labels: data.volume.labels,
        datasets: [
          { type: "bar", label: "MQLs", data: data.volume.mqls, backgroundColor: brand,
            borderRadius: 3, maxBarThickness: 28, yAxisID: "y", order: 2 },
          { type: "line", label: "Pipeline created", data: data.volume.pipeline,
            borderColor: ok, backgroundColor: ok, pointRadius: 3, yAxisID: "y1", order: 1 }
        ]
      },
      options: {
        plugins: { legend: { labels: { color: muted } } },
        scales: {
          x: { ticks: { color: muted, maxRotation: 0, autoSkip: true }, grid: { display: false } },
          y: { beginAtZero: true, position: "left", ticks: { color: muted, precision: 0 },
               title: { display: true, text: "MQLs", color: muted } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
                ticks: { color: muted }, title: { display: true, text: "Pipeline", color: muted } }
        }
      }
    });

    chart("reasons-chart", {
      type: "bar",
      data: {
        labels: data.reasons.labels,
        datasets: data.reasons.series.map(function (series, i) {
          return { label: series.label, data: series.data,
                   backgroundColor: PALETTE[i % PALETTE.length], maxBarThickness: 28 };
        })
      },
      options: {
        plugins: { legend: { labels: { color: muted } } },
        scales: { x: { stacked: true, ticks: { color: muted, maxRotation: 0, autoSkip: true },
                       grid: { display: false } },
                  y: { stacked: true, beginAtZero: true, ticks: { color: muted, precision: 0 } } }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
