/* metricspec: draws a scorecard site's charts in the browser, with vega-embed from vega.js (the
   Vega, Vega-Lite and vega-embed bundle of vl-convert, next to this file). Nothing loads from the
   network. Each chart is a <script type="application/json" data-chart-for="ID"> block holding
   {"spec": <Vega-Lite>, "locale": <d3 number format>}; the element ID is drawn into. The numbers of
   every chart are also in the table under it, left open for readers without JavaScript and closed
   here. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // a legend of several entries side by side wraps into rows on a narrow screen, a long label into the width
  function fitLegends(spec, width) {
    var columns = Math.max(1, Math.floor((width - 40) / 130));
    (spec.layer || [spec]).forEach(function (layer) {
      var colour = layer.encoding && layer.encoding.color;
      if (colour && colour.legend) {
        colour.legend.columns = Math.min(colour.legend.columns || columns, columns);
        colour.legend.labelLimit = Math.min(colour.legend.labelLimit || width, width - 40);
      }
    });
  }

  function drawAll() {
    var blocks = document.querySelectorAll('script[type="application/json"][data-chart-for]');
    Array.prototype.forEach.call(blocks, function (block) {
      var target = document.getElementById(block.getAttribute("data-chart-for"));
      if (!target || typeof window.vegaEmbed !== "function") {
        return;
      }
      var data = JSON.parse(block.textContent);
      var spec = data.spec;
      spec.width = "container"; // fill the column: charts follow the viewport
      spec.autosize = {type: "fit-x", contains: "padding"};
      fitLegends(spec, target.clientWidth || 600);
      window.vegaEmbed(target, spec, {mode: "vega-lite", actions: false, renderer: "svg",
                                      formatLocale: data.locale})
        .then(function () { target.classList.add("is-drawn"); })
        .catch(function (error) {
          target.classList.add("has-error");
          target.setAttribute("data-error", String(error && error.message || error));
        });
    });
    var tables = document.querySelectorAll("details[data-open-without-js]");
    Array.prototype.forEach.call(tables, function (details) {
      details.open = false;
      details.removeAttribute("data-open-without-js");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
