// Spillway's status page: reads /api/status and /api/history (the admin API's JSON) every few
// seconds and draws them with uPlot. No other library, nothing fetched from elsewhere.
(function () {
  "use strict";
  // ?refresh=MS changes how often the page reloads its figures (the browser test uses it).
  var asked = Number(new URLSearchParams(window.location.search).get("refresh"));
  var REFRESH_MS = asked >= 100 ? asked : 3000;
  var charts = {};
  // For the browser test and for people poking at the page: the charts and the last JSON drawn.
  window.spillway = { charts: charts, status: null, history: null, refreshes: 0, busy: 0 };

  function bytes(b) {
    if (b === null || b === undefined || isNaN(b)) return "–";
    var u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], i = 0, v = Number(b);
    while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(v >= 100 ? 0 : 1)) + " " + u[i];
  }
  function rate(b) { return b === null || b === undefined ? "–" : bytes(b) + "/s"; }
  function secs(s) {
    if (s === null || s === undefined) return "–";
    if (s < 0.001) return (s * 1e6).toFixed(0) + " µs";
    if (s < 1) return (s * 1e3).toFixed(1) + " ms";
    return s.toFixed(2) + " s";
  }
  function el(id) { return document.getElementById(id); }
  function text(id, v) { var e = el(id); if (e) e.textContent = v; }
  function cell(tr, v, cls) {
    var td = document.createElement("td");
    td.textContent = v;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function rows(tableId, items, fill) {
    var tb = el(tableId).tBodies[0];
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    items.forEach(function (it) { var tr = document.createElement("tr"); fill(tr, it); tb.appendChild(tr); });
    if (items.length === 0) {
      var tr = document.createElement("tr");
      var td = cell(tr, "none", "muted");
      td.colSpan = el(tableId).tHead.rows[0].cells.length;
      tb.appendChild(tr);
    }
  }

  function width(id) { return Math.max(300, el(id).clientWidth || 440); }

  function chart(id, series, data, axes, extra) {
    var opts = {
      width: width(id), height: 190,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [{}].concat(series),
      axes: [{}].concat(axes)
    };
    if (extra) extra(opts);
    if (charts[id]) { charts[id].setData(data); return charts[id]; }
    charts[id] = new uPlot(opts, data, el(id));
    return charts[id];
  }

  function drawHistory(h) {
    var s = h.samples || [];
    var t = s.map(function (x) { return x.t / 1000; });
    var st = window.spillway.status || {};
    var ft = (st.df && st.df.fastTier) || {};
    var hi = ft.highWatermark !== undefined ? ft.highWatermark * 100 : null;
    var lo = ft.lowWatermark !== undefined ? ft.lowWatermark * 100 : null;
    chart("chart-fast", [
      { label: "fast tier use %", stroke: "#2563eb", width: 2 },
      { label: "high watermark", stroke: "#dc2626", dash: [6, 4], points: { show: false } },
      { label: "low watermark", stroke: "#9ca3af", dash: [6, 4], points: { show: false } }
    ], [t, s.map(function (x) { return x.fastUse === undefined ? null : x.fastUse * 100; }),
        t.map(function () { return hi; }), t.map(function () { return lo; })],
      [{ label: "%", values: function (u, v) { return v.map(function (x) { return x + "%"; }); } }],
      function (o) { o.scales.y = { range: [0, 100] }; });
    chart("chart-moved", [
      { label: "spilled", stroke: "#f59e0b", width: 2 },
      { label: "promoted", stroke: "#10b981", width: 2 }
    ], [t, s.map(function (x) { return x.spilledBytes === undefined ? null : x.spilledBytes; }),
        s.map(function (x) { return x.promotedBytes === undefined ? null : x.promotedBytes; })],
      [{ size: 70, values: function (u, v) { return v.map(bytes); } }]);
    var cap = st.daemon ? st.daemon.bandwidthLimitBytesPerSecond : 0;
    chart("chart-rate", [
      { label: "move rate", stroke: "#7c3aed", width: 2 },
      { label: "bandwidth cap", stroke: "#dc2626", dash: [6, 4], points: { show: false } }
    ], [t, s.map(function (x) { return x.moveRate === undefined ? null : x.moveRate; }),
        t.map(function () { return cap > 0 ? cap : null; })],
      [{ size: 80, values: function (u, v) { return v.map(rate); } }]);
    var kinds = ["copy", "gc", "resync", "parked", "retried"];
    var colors = ["#2563eb", "#6b7280", "#f59e0b", "#dc2626", "#7c3aed"];
    chart("chart-jobs", kinds.map(function (k, i) { return { label: k, stroke: colors[i], width: 2 }; }),
      [t].concat(kinds.map(function (k) { return s.map(function (x) { return x.jobs ? x.jobs[k] : null; }); })),
      [{ label: "jobs" }]);
    chart("chart-s3", [
      { label: "requests/s", stroke: "#2563eb", width: 2, scale: "r" },
      { label: "p50", stroke: "#10b981", scale: "s" },
      { label: "p99", stroke: "#dc2626", scale: "s" }
    ], [t, s.map(function (x) { return x.s3Rate; }), s.map(function (x) { return x.s3P50; }),
        s.map(function (x) { return x.s3P99; })],
      [{ scale: "r", label: "req/s" },
       { scale: "s", side: 1, size: 75, grid: { show: false }, values: function (u, v) { return v.map(secs); } }]);
  }

  function drawStatus(st) {
    var df = st.df;
    text("updated", "updated " + new Date(st.time).toLocaleTimeString() + " · " + st.mount.summary);
    var ft = df.fastTier || {};
    rows("devices", df.devices, function (tr, d) {
      tr.setAttribute("data-device", d.name);
      cell(tr, d.name);
      cell(tr, d.tier);
      cell(tr, d.backend);
      cell(tr, d.state, d.state === "failed" ? "bad" : "");
      cell(tr, bytes(d.size), "num");
      cell(tr, bytes(d.used), "num").setAttribute("data-bytes", d.used);
      cell(tr, bytes(d.available), "num");
      var td = cell(tr, "");
      var bar = document.createElement("span");
      bar.className = "bar";
      var fill = document.createElement("i");
      var pct = d.size > 0 ? 100 * d.used / d.size : 0;
      fill.style.width = Math.min(100, pct) + "%";
      if (d.tier === "fast" && ft.highWatermark !== undefined && pct > ft.highWatermark * 100) fill.className = "hot";
      bar.appendChild(fill);
      if (d.tier === "fast" && ft.highWatermark !== undefined) {
        var hi = document.createElement("b"); hi.style.left = ft.highWatermark * 100 + "%"; hi.title = "high watermark";
        var lo = document.createElement("b"); lo.className = "low"; lo.style.left = ft.lowWatermark * 100 + "%"; lo.title = "low watermark";
        bar.appendChild(hi); bar.appendChild(lo);
      }
      td.appendChild(bar);
      var label = document.createElement("span");
      label.className = "pct";
      label.textContent = " " + pct.toFixed(1) + "%";
      td.appendChild(label);
      cell(tr, String(d.objects), "num");
    });
    var sum = df.summary;
    text("pool-line", "pool " + df.pool + ": " + sum.objects + " objects; " + bytes(sum.spilledBytes) +
      " spilled; fast tier " + (ft.useRatio !== undefined ? (ft.useRatio * 100).toFixed(1) + "% used, spills above " +
      (ft.highWatermark * 100).toFixed(0) + "% down to " + (ft.lowWatermark * 100).toFixed(0) + "%" : ""));
    var h = df.health || {};
    var hp = el("health");
    if (hp) {
      hp.hidden = !h.degraded;
      if (h.degraded) {
        text("health", "degraded: " + (h.failedDevices.length ? "failed " + h.failedDevices.join(", ") + "; " : "") +
          h.lostCopies + " lost copies, " + h.objectsAtRisk + " objects with fewer than " + h.replicas +
          " copies (being restored), " + h.objectsWithNoCopyLeft + " with no copy left");
      }
    }
    var d = st.daemon || {};
    var mv = st.moved || {};
    text("spilled-bytes", bytes(mv.spilledBytes));
    el("spilled-bytes").setAttribute("data-bytes", String(mv.spilledBytes));
    text("promoted-bytes", bytes(mv.promotedBytes));
    text("move-rate", rate(d.moveRateBytesPerSecond));
    text("bandwidth-cap", d.bandwidthLimitBytesPerSecond > 0 ? rate(d.bandwidthLimitBytesPerSecond) : "none");
    text("activity", d.running ? "daemon: " + d.activity : "daemon not running");
    var j = st.jobs;
    el("jobs-figures").textContent = "copy " + j.copy + " · gc " + j.gc + " · resync " + j.resync + " · parked " +
      j.parked + " · retried " + j.retried + " · oldest " + secs(j.oldestAgeSeconds);
    if (j.retried > 0 || j.oldestAgeSeconds > 3600) el("jobs-figures").className = "figures bad";
    else el("jobs-figures").className = "figures";
    if (st.heat) drawHeat(st.heat);
    var ops = Object.keys(st.s3 || {}).map(function (k) { var o = st.s3[k]; o.op = k; return o; });
    rows("s3-ops", ops, function (tr, o) {
      cell(tr, o.op); cell(tr, String(o.requests), "num"); cell(tr, String(o.errors), "num");
      cell(tr, secs(o.p50Seconds), "num"); cell(tr, secs(o.p99Seconds), "num");
    });
    rows("events", st.events || [], function (tr, e) {
      cell(tr, new Date(e.at).toLocaleString());
      cell(tr, e.kind);
      cell(tr, e.summary, (e.ok ? "ok" : "bad") + " name");
    });
  }

  function drawHeat(h) {
    var b = h.bands;
    var x = b.map(function (_, i) { return i; });
    var label = function (i) {
      var band = b[i]; if (!band) return "";
      if (band.low === 0) return "< " + band.high.toFixed(3);
      if (band.high === null) return "≥ " + band.low;
      return band.low < 1 ? band.low.toFixed(3) : String(band.low);
    };
    // Side by side in each band: resident to the left of the band's mark, spilled to the right.
    var left = uPlot.paths.bars({ size: [0.35, 40], align: -1, gap: 1 });
    var right = uPlot.paths.bars({ size: [0.35, 40], align: 1, gap: 1 });
    chart("chart-heat", [
      { label: "on the fast tier", stroke: "#2563eb", fill: "rgba(37,99,235,0.5)", paths: left, points: { show: false } },
      { label: "spilled", stroke: "#f59e0b", fill: "rgba(245,158,11,0.5)", paths: right, points: { show: false } }
    ], [x, b.map(function (z) { return z.residentBytes; }), b.map(function (z) { return z.spilledBytes; })],
      [{ size: 70, values: function (u, v) { return v.map(bytes); } }],
      function (o) {
        o.scales.x = { time: false, range: [-0.5, b.length - 0.5] };
        o.axes[0] = { label: "heat (accesses, decayed) →", values: function (u, v) { return v.map(label); }, splits: function () { return x; } };
      });
    rows("next-to-spill", h.nextToSpill, function (tr, c) {
      cell(tr, c.name || c.fid, "name").title = c.fid;
      cell(tr, bytes(c.size), "num");
      cell(tr, c.heat.toFixed(3), "num");
      cell(tr, new Date(c.lastAccess).toLocaleString());
    });
  }

  function get(url) {
    return fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  function refresh() {
    if (window.spillway.pause) return Promise.resolve();
    // busy: refreshes in flight; each redraws the tables when it ends (a test that paused waits for 0).
    window.spillway.busy++;
    return get("/api/status").then(function (st) {
      window.spillway.status = st;
      drawStatus(st);
      return get("/api/history");
    }).then(function (h) {
      window.spillway.history = h;
      drawHistory(h);
      window.spillway.refreshes++;
      document.body.setAttribute("data-refreshes", String(window.spillway.refreshes));
    }).catch(function (e) {
      // The server may be restarting: say so on the page, try again at the next tick.
      text("updated", "cannot reach the server (" + e.message + "); retrying");
    }).then(function () {
      window.spillway.busy--;
    });
  }

  window.spillway.refresh = refresh;
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].setSize({ width: width(id), height: 190 }); });
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
