/* metricspec: draws a scorecard site's charts in the browser, with vega-embed from vega.js (the
   Vega, Vega-Lite and vega-embed bundle of vl-convert, next to this file). Nothing loads from the
   network.

   Each chart is a <script type="application/json" data-chart-for="ID"> block holding {"spec":
   <Vega-Lite>} (and "locale" when it differs from the page's); the page's shared chart config and
   number locale are in <script type="application/json" id="chart-config">. A chart is drawn when it
   comes near the viewport, and vega.js (about 900 KB) is loaded only then: a page opens without
   parsing it, and a chart in a closed <details> is drawn when opened. When printing, a chart not drawn
   yet (never scrolled to) prints its table instead; window.metricspecDrawAll() draws every chart first.
   The numbers of every chart are also in the table under it, left open for readers without
   JavaScript and closed here. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var me = document.currentScript;
  var vegaSrc = me && me.getAttribute("data-vega");
  var loading = null;
  var shared = null;

  function loadVega() {
    if (typeof window.vegaEmbed === "function") {
      return Promise.resolve();
    }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = vegaSrc;
        s.onload = resolve;
        s.onerror = function () { reject(new Error("could not load " + vegaSrc)); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function sharedConfig() {
    if (shared === null) {
      var block = document.getElementById("chart-config");
      shared = block ? JSON.parse(block.textContent) : {};
    }
    return shared;
  }

  // a legend of several entries side by side wraps into rows on a narrow screen, a long label into the width
  function fitLegends(spec, width) {
    var columns = Math.max(1, Math.floor((width - 40) / 130));
    (spec.layer || [spec]).forEach(function (layer) {
      ["color", "strokeDash"].forEach(function (channel) {  // one legend: the same settings on both channels
        var encoding = layer.encoding && layer.encoding[channel];
        if (encoding && encoding.legend) {
          encoding.legend.columns = Math.min(encoding.legend.columns || columns, columns);
          encoding.legend.labelLimit = Math.min(encoding.legend.labelLimit || width, width - 40);
        }
      });
    });
  }

  function draw(target) {
    if (target.getAttribute("data-state")) {
      return Promise.resolve();
    }
    target.setAttribute("data-state", "drawing");
    var block = document.querySelector('script[type="application/json"][data-chart-for="' + target.id + '"]');
    var data = JSON.parse(block.textContent);
    var common = sharedConfig();
    var spec = data.spec;
    spec.config = spec.config || common.config;
    spec.width = "container"; // fill the column: charts follow the viewport
    spec.autosize = {type: "fit-x", contains: "padding"};
    fitLegends(spec, target.clientWidth || 600);
    return window.vegaEmbed(target, spec, {mode: "vega-lite", actions: false, renderer: "svg",
                                           formatLocale: data.locale || common.locale})
      .then(function () { target.classList.add("is-drawn"); })
      .catch(function (error) {
        target.classList.add("has-error");
        target.setAttribute("data-error", String(error && error.message || error));
      });
  }

  function drawWhenLoaded(target) {
    return loadVega().then(function () { return draw(target); }, function (error) {
      target.classList.add("has-error");
      target.setAttribute("data-error", String(error && error.message || error));
    });
  }

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll(".chart-live"));
  }

  /* every chart now (tests, printing a whole report): resolves when all are drawn */
  window.metricspecDrawAll = function () {
    return Promise.all(boxes().map(drawWhenLoaded));
  };

  function start() {
    var tables = document.querySelectorAll("details[data-open-without-js]");
    Array.prototype.forEach.call(tables, function (details) {
      details.open = false;
      details.removeAttribute("data-open-without-js");
    });
    if (!("IntersectionObserver" in window)) {
      window.metricspecDrawAll();
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          drawWhenLoaded(entry.target);
        }
      });
    }, {rootMargin: "400px 0px"});
    boxes().forEach(function (box) { observer.observe(box); });
    // printing: charts not drawn yet print their numbers (their tables are opened, and closed again after)
    var opened = [];
    window.addEventListener("beforeprint", function () {
      boxes().forEach(function (box) {
        if (!box.classList.contains("is-drawn")) {
          var figure = box.closest("figure");
          var table = figure && figure.nextElementSibling;
          if (table && table.matches("details.data-table") && !table.open) {
            table.open = true;
            opened.push(table);
          }
        }
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (table) { table.open = false; });
      opened = [];
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
