/* Draws each dashboard figure's chart from the JSON the page carries (json_script): no inline
   script, no CDN (Chart.js is vendored under static/vendor/chartjs). The table under each chart
   holds the same numbers, so the page reads without JavaScript. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var Chart = window.Chart;
  // Chinese labels: the CJK fonts of the machine (fonts-noto-cjk on Debian), then the system's.
  Chart.defaults.font.family = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  Chart.defaults.font.size = 13;
  Chart.defaults.animation = false;
  var PALETTE = ["#1f5fbf", "#b3261e", "#f2a900", "#2e7d32", "#6a1b9a", "#00838f", "#795548", "#546e7a"];
  function colour(series, i) { return series.colour || PALETTE[i % PALETTE.length]; }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var horizontal = spec.type === "hbar";
    var stacked = spec.type === "stacked";
    var type = spec.type === "line" ? "line" : "bar";
    var datasets = spec.series.map(function (s, i) {
      var c = colour(s, i);
      var d = { label: s.label, data: s.values, backgroundColor: c, borderColor: c, spanGaps: true };
      if (type === "line") { d.fill = false; d.tension = 0; d.pointRadius = 3; }
      if (type === "line" && i === spec.series.length - 1 && spec.series.length > 2) { d.borderDash = [6, 4]; d.pointRadius = 0; }
      return d;
    });
    if (horizontal) {
      // One band per label, every label shown (Chart.js would skip some on a fixed height).
      canvas.parentNode.style.height = Math.max(160, spec.labels.length * 26 * Math.max(1, spec.series.length / 2) + 90) + "px";
    }
    new Chart(canvas, {
      type: type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0, autoSkip: !horizontal } }
        }
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
