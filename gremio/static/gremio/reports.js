// Report charts: the server computed the ECharts option (json_script); this
// only draws it, and follows a bar's `url` to the records behind it.
(function () {
  function draw(element) {
    const source = document.getElementById(element.dataset.chart);
    if (!source || typeof echarts === "undefined") return;
    const chart = echarts.init(element);
    // Marks the chart once drawn (animations done), for people's tools and tests alike.
    chart.on("finished", () => { element.dataset.ready = "1"; });
    chart.setOption(JSON.parse(source.textContent));
    chart.on("click", (params) => {
      const url = params.data && params.data.url;
      if (url) window.location.assign(url);
    });
    window.addEventListener("resize", () => chart.resize());
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
