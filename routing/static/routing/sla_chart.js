// Draws the manager's "breaches per day" bar chart with the vendored Chart.js.
// The numbers come from the page's json_script element
// (#sla-breaches-per-day: {"labels": ["2025-01-31", …], "breaches": [0, 2, …]}),
// so the page needs no inline script and a strict content security policy holds.
(function () {
  "use strict";

  function draw() {
    var canvas = document.getElementById("sla-breaches-chart");
    var source = document.getElementById("sla-breaches-per-day");
    if (!canvas || !source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var styles = getComputedStyle(document.documentElement);
    var bad = styles.getPropertyValue("--bad").trim() || "#b42318";
    var muted = styles.getPropertyValue("--muted").trim() || "#5b6474";

    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Breaches",
          data: data.breaches,
          backgroundColor: bad,
          borderRadius: 3,
          maxBarThickness: 28
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.parsed.y === 1 ? "1 breach" : item.parsed.y + " breaches";
              }
            }
          }
        },
        scales: {
          x: { ticks: { color: muted, maxRotation: 0, autoSkip: true, autoSkipPadding: 12 },
               grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: muted, precision: 0 } }
        }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
