/* Draws every element marked data-chart="<id of a json_script>" with ECharts (served by the application).
   The JSON holds {option, links}: the option as the server built it (labels already in the operator's
   language) and, per data point, the order list it drills down to. Runs again after htmx swaps. */
(function () {
  "use strict";
  function draw(el) {
    if (el.dataset.drawn || typeof echarts === "undefined") { return; }
    var source = document.getElementById(el.dataset.chart);
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(spec.option);
    if (spec.links) {
      chart.on("click", function (params) {
        var link = spec.links[params.dataIndex];
        if (link) { window.location.href = link; }
      });
    }
    el.dataset.drawn = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-chart]"), draw);
  }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
}());
