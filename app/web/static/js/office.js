/* Health office dashboard (/office): every clinic side by side over a period; a clinic's
   services and a service's counters by drilling down; volume and wait by day and by hour of
   day as plain SVG charts; CSV, XLSX and ticket-log downloads.
   An admin sees every clinic; a clinic_admin only their own; staff are turned away.
   Plain ES2015, no build step (see common.js). */
(function () {
  "use strict";

  var A = window.Antrean;
  var t = A.t;
  var $ = A.$;

  var TARGET_PCT = 80; // a row is flagged when fewer called patients than this met the target
  var REFRESH_MS = 60000; // a period that includes today reads the figures again this often
  var MAX_DAY_SLOTS = 93; // a longer period charts only the days that have tickets
  var DAY_MS = 86400000;
  var VIEWS = ["office-loading", "login-section", "not-allowed", "dashboard"];
  var SVG_NS = "http://www.w3.org/2000/svg";
  var LOCALE = A.boot.lang === "id" ? "id-ID" : "en-GB";
  // The table: what each level lists, grouped by, and the figures of each row.
  var LEVELS = {
    city: { group: "clinic", id: "clinic_id", name: "clinic_name", column: "clinic" },
    clinic: { group: "service", id: "service_id", name: "service_name", column: "service" },
    service: { group: "counter", id: "counter_id", name: "counter_name", column: "counter" }
  };
  var FIGURES = [
    { key: "issued", type: "int" },
    { key: "served", type: "int" },
    { key: "wait_median_min", type: "min" },
    { key: "wait_p90_min", type: "min" },
    { key: "within_target_pct", type: "pct" },
    { key: "no_show_rate", type: "pct" },
    { key: "service_mean_min", type: "min" }
  ];

  var numbers = {
    int: new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 }),
    min: new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 2 }),
    pct: new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1 })
  };
  var dayShort = new Intl.DateTimeFormat(LOCALE, { timeZone: "UTC", day: "numeric", month: "short" });
  var dayYear = new Intl.DateTimeFormat(LOCALE, { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
  var dayLong = new Intl.DateTimeFormat(LOCALE, {
    timeZone: "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric"
  });

  var state = {
    session: null,
    clinics: [], // the clinics this account may see
    services: {}, // clinic id -> its services
    timezone: null, // the clinics' timezone: "today" is their local day
    level: "city",
    clinic: null,
    service: null,
    from: null,
    to: null,
    preset: "today",
    rows: [], // the table's rows as shown
    sort: { key: null, dir: 1 }, // null: the natural order (clinics by name, services by prefix)
    generation: 0, // rises with every read, so only the newest answer is shown
    refreshTimer: null
  };
  window.AntreanOffice = { state: state };

  /* ---------- helpers ---------- */

  function showView(id) {
    VIEWS.forEach(function (name) { $("#" + name).hidden = name !== id; });
  }

  function format(type, value) {
    if (value === null || value === undefined || isNaN(value)) return "–";
    return type === "pct" ? numbers.pct.format(value / 100) : numbers[type].format(value);
  }

  function role() { return state.session && state.session.me ? state.session.me.role : null; }

  function topLevel() { return role() === "admin" ? "city" : "clinic"; }

  function get(path) {
    return A.api("GET", path, { token: state.session.token, timeout: 30000 }).then(function (result) {
      return result.data;
    }, function (error) {
      if (error.status === 401 && state.session) sessionEnded();
      throw error;
    });
  }

  function query(params) {
    return Object.keys(params).filter(function (key) {
      return params[key] !== null && params[key] !== undefined;
    }).map(function (key) {
      return encodeURIComponent(key) + "=" + encodeURIComponent(params[key]);
    }).join("&");
  }

  /* In the dashboard's words, by the error's code (office.code.*: admin_only, other_clinic,
     invalid_input for a period the server refuses...), see A.errorText. */
  function explain(error) {
    return A.errorText(error, "office");
  }

  /* ---------- dates: ISO strings of local days, the clinics' "today" ---------- */

  function isoOf(ms) { return new Date(ms).toISOString().slice(0, 10); }
  function msOf(iso) {
    var parts = iso.split("-");
    return Date.UTC(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2]));
  }
  function addDays(iso, days) { return isoOf(msOf(iso) + days * DAY_MS); }

  function todayIso() {
    try {
      var found = {};
      new Intl.DateTimeFormat("en-US", {
        timeZone: state.timezone || undefined, year: "numeric", month: "2-digit", day: "2-digit"
      }).formatToParts(new Date()).forEach(function (part) { found[part.type] = part.value; });
      return found.year + "-" + found.month + "-" + found.day;
    } catch (e) { // an old browser without formatToParts: the browser's own day
      var now = new Date();
      return isoOf(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()));
    }
  }

  function presetRange(name) {
    var today = todayIso();
    var year = Number(today.slice(0, 4));
    var month = Number(today.slice(5, 7));
    if (name === "7d") return [addDays(today, -6), today];
    if (name === "month") return [today.slice(0, 8) + "01", today];
    if (name === "last_month") {
      return [isoOf(Date.UTC(year, month - 2, 1)), isoOf(Date.UTC(year, month - 1, 0))];
    }
    return [today, today];
  }

  /* The most common timezone of the clinics shown (a city's clinics share one). */
  function commonTimezone(clinics) {
    var counts = {};
    var best = null;
    clinics.forEach(function (clinic) {
      counts[clinic.timezone] = (counts[clinic.timezone] || 0) + 1;
      if (best === null || counts[clinic.timezone] > counts[best]) best = clinic.timezone;
    });
    return best;
  }

  function periodText(from, to) {
    if (from === to) return dayLong.format(new Date(msOf(from)));
    var sameYear = from.slice(0, 4) === to.slice(0, 4);
    return t("office.period_range", {
      from: (sameYear ? dayShort : dayYear).format(new Date(msOf(from))), to: dayYear.format(new Date(msOf(to)))
    });
  }

  /* ---------- session ---------- */

  function showLogin(message) {
    state.session = null;
    stopRefresh();
    $("#userbar").hidden = true;
    showView("login-section");
    A.loginForm.show(message);
  }

  function sessionEnded() {
    A.session.clear();
    showLogin(t("common.session_expired"));
  }

  function afterLogin(session) {
    if (!A.loginForm.accept(session, "office")) {
      showLogin(t("office.not_allowed"));
      return;
    }
    state.session = session;
    $("#userbar-role").textContent = t("office.role." + session.me.role);
    var me = session.me;
    if (me.role !== "admin" && !(me.role === "clinic_admin" && me.clinic_id)) {
      showView("not-allowed");
      return;
    }
    showView("office-loading");
    A.api("GET", "/clinics").then(function (result) {
      state.clinics = result.data.filter(function (clinic) {
        return me.role === "admin" || clinic.id === me.clinic_id;
      });
      state.timezone = commonTimezone(state.clinics);
      setPreset("today");
      showView("dashboard");
      if (me.role === "admin") openCity(); else openClinic(me.clinic_id);
      startRefresh();
    }, function (error) {
      showView("office-loading");
      A.clear($("#office-loading")).appendChild(A.el("span", { class: "error", text: explain(error) }));
    });
  }

  function logout() {
    A.session.clear();
    showLogin("");
  }

  /* ---------- period ---------- */

  function setPreset(name) {
    var range = presetRange(name);
    state.preset = name;
    $("#date-from").value = range[0];
    $("#date-to").value = range[1];
    applyPeriod();
  }

  function markPreset() {
    A.$$(".preset").forEach(function (button) {
      var on = button.getAttribute("data-preset") === state.preset;
      button.classList.toggle("active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  /* Takes the dates from the inputs; false (and says why) when they do not make a period. */
  function applyPeriod() {
    var from = $("#date-from").value;
    var to = $("#date-to").value;
    var box = $("#period-error");
    var valid = /^\d{4}-\d{2}-\d{2}$/;
    if (!valid.test(from) || !valid.test(to) || from > to) {
      box.textContent = t("office.period_invalid");
      box.hidden = false;
      return false;
    }
    box.hidden = true;
    state.from = from;
    state.to = to;
    markPreset();
    return true;
  }

  /* ---------- views ---------- */

  function clinicById(id) {
    for (var i = 0; i < state.clinics.length; i++) if (state.clinics[i].id === id) return state.clinics[i];
    return null;
  }

  function openCity() {
    state.level = "city";
    state.clinic = null;
    state.service = null;
    state.sort = { key: null, dir: 1 };
    load(false);
  }

  function openClinic(id) {
    var clinic = clinicById(id);
    if (!clinic) return;
    state.level = "clinic";
    state.clinic = clinic;
    state.service = null;
    state.sort = { key: null, dir: 1 };
    load(false);
  }

  function openService(id, name) {
    state.level = "service";
    state.service = { id: id, name: name };
    state.sort = { key: null, dir: 1 };
    load(false);
  }

  function back() {
    if (state.level === "service") openClinic(state.clinic.id);
    else if (state.level === "clinic" && topLevel() === "city") openCity();
  }

  function filters() {
    return {
      date_from: state.from,
      date_to: state.to,
      clinic_id: state.clinic && state.level !== "service" ? state.clinic.id : null,
      service_id: state.service ? state.service.id : null
    };
  }

  function renderHead() {
    var crumbs = A.clear($("#crumbs"));
    var trail = [];
    if (topLevel() === "city") trail.push({ text: t("office.city_title"), open: openCity });
    if (state.clinic) {
      var clinicId = state.clinic.id;
      trail.push({ text: state.clinic.name, open: function () { openClinic(clinicId); } });
    }
    if (state.service) trail.push({ text: state.service.name });
    trail.forEach(function (step, index) {
      if (index > 0) crumbs.appendChild(A.el("span", { class: "crumb-sep", "aria-hidden": "true", text: "›" }));
      var last = index === trail.length - 1;
      crumbs.appendChild(last ?
        A.el("span", { class: "crumb current", "aria-current": "page", text: step.text }) :
        A.el("button", { type: "button", class: "crumb link", onclick: step.open, text: step.text }));
    });
    crumbs.hidden = trail.length < 2;
    $("#btn-back").hidden = state.level === topLevel();
    $("#view-title").textContent = state.level === "city" ? t("office.city_title") :
      state.level === "clinic" ? state.clinic.name : state.service.name;
    $("#period-label").textContent = periodText(state.from, state.to);
    $("#table-note").textContent = t("office.note", { pct: TARGET_PCT });
  }

  /* Reads the table and both charts for the current view and period. quiet: a refresh, the
     figures stay on screen until the new ones arrive. */
  function load(quiet) {
    var generation = ++state.generation;
    var level = state.level;
    var period = { from: state.from, to: state.to };
    var base = filters();
    var dashboard = $("#dashboard");
    dashboard.setAttribute("data-view", "");
    $("#report-table").setAttribute("aria-busy", "true");
    if (!quiet) renderHead();
    var reads = [
      get("/reports/wait-times?" + query(Object.assign({ group_by: LEVELS[level].group }, base))),
      get("/reports/wait-times?" + query(Object.assign({ group_by: "day" }, base))),
      get("/reports/wait-times?" + query(Object.assign({ group_by: "hour" }, base)))
    ];
    if (level === "clinic") reads.push(A.api("GET", "/clinics/" + state.clinic.id + "/services"));
    Promise.all(reads).then(function (results) {
      if (generation !== state.generation) return;
      if (level === "clinic") state.services[state.clinic.id] = results[3].data;
      $("#report-error").hidden = true;
      renderHead();
      state.rows = tableRows(level, results[0].rows);
      renderTable();
      renderChart($("#chart-day"), "day", results[1].rows, period);
      renderChart($("#chart-hour"), "hour", results[2].rows, period);
      $("#report-table").setAttribute("aria-busy", "false");
      dashboard.setAttribute("data-view", level + ":" + period.from + ":" + period.to);
    }, function (error) {
      if (generation !== state.generation || error.status === 401) return;
      $("#report-table").setAttribute("aria-busy", "false");
      var box = $("#report-error");
      box.textContent = explain(error);
      box.hidden = false;
    });
  }

  function startRefresh() {
    stopRefresh();
    state.refreshTimer = setInterval(function () {
      if (!state.session || $("#dashboard").hidden || document.hidden) return;
      if (state.preset) setPreset(state.preset); // "today" moves on at the clinics' midnight
      if (state.to >= todayIso()) load(true);
    }, REFRESH_MS);
  }

  function stopRefresh() {
    clearInterval(state.refreshTimer);
    state.refreshTimer = null;
  }

  /* ---------- the table ---------- */

  function emptyFigures() {
    return {
      issued: 0, served: 0, no_show: 0, cancelled: 0, wait_median_min: null, wait_p90_min: null,
      within_target_pct: null, service_mean_min: null
    };
  }

  /* The report's rows, with every clinic (or service) that had no tickets as a row of zeros. */
  function tableRows(level, reportRows) {
    var spec = LEVELS[level];
    var byId = {};
    reportRows.forEach(function (row) { byId[row[spec.id]] = row; });
    var listed = level === "city" ? state.clinics :
      level === "clinic" ? state.services[state.clinic.id] || [] : [];
    var rows = listed.map(function (item) {
      var row = Object.assign(emptyFigures(), byId[item.id] || {});
      delete byId[item.id];
      return Object.assign(row, { id: item.id, name: item.name });
    });
    reportRows.forEach(function (row) {
      if (!Object.prototype.hasOwnProperty.call(byId, row[spec.id])) return;
      rows.push(Object.assign({}, row, {
        id: row[spec.id],
        name: row[spec.name] === null || row[spec.name] === undefined ? t("office.no_counter") : row[spec.name]
      }));
    });
    rows.forEach(function (row, index) {
      row.order = index;
      row.no_show_rate = row.issued > 0 ? 100 * row.no_show / row.issued : null;
    });
    return rows;
  }

  function sortedRows() {
    var key = state.sort.key;
    var dir = state.sort.dir;
    return state.rows.slice().sort(function (a, b) {
      if (key === null) return a.order - b.order;
      var x = a[key];
      var y = b[key];
      if (x === null || x === undefined) return y === null || y === undefined ? a.order - b.order : 1;
      if (y === null || y === undefined) return -1;
      if (typeof x === "string") return dir * x.localeCompare(y, LOCALE) || a.order - b.order;
      return dir * (x - y) || a.order - b.order;
    });
  }

  function onSort(key) {
    if (state.sort.key === key) state.sort.dir = -state.sort.dir;
    else state.sort = { key: key, dir: key === "name" ? 1 : -1 };
    renderTable();
  }

  function belowTarget(row) {
    return row.within_target_pct !== null && row.within_target_pct !== undefined &&
      row.within_target_pct < TARGET_PCT;
  }

  function renderTable() {
    var level = state.level;
    var columns = [{ key: "name", label: t("office.col." + LEVELS[level].column) }].concat(
      FIGURES.map(function (figure) {
        return { key: figure.key, type: figure.type, label: t("office.col." + figure.key) };
      }));
    var head = A.clear($("#report-table thead tr"));
    columns.forEach(function (column) {
      var sorted = state.sort.key === column.key;
      head.appendChild(A.el("th", {
        "data-col": column.key,
        class: column.type ? "num" : null,
        "aria-sort": sorted ? (state.sort.dir > 0 ? "ascending" : "descending") : "none"
      }, [A.el("button", { type: "button", class: "sort", onclick: function () { onSort(column.key); } }, [
        column.label,
        A.el("span", { class: "sort-mark", "aria-hidden": "true", text: sorted ? (state.sort.dir > 0 ? "▲" : "▼") : "" })
      ])]));
    });
    var body = A.clear($("#report-table tbody"));
    sortedRows().forEach(function (row) {
      var attrs = { class: belowTarget(row) ? "below-target" : null };
      attrs["data-" + LEVELS[level].id.replace("_", "-")] = row.id === null ? "none" : row.id;
      var name = level === "service" ? row.name : A.el("button", {
        type: "button", class: "link", "data-action": "open", text: row.name,
        onclick: function () { if (level === "city") openClinic(row.id); else openService(row.id, row.name); }
      });
      var cells = [A.el("th", { scope: "row", "data-col": "name" }, [name])];
      FIGURES.forEach(function (figure) {
        var flagged = figure.key === "within_target_pct" && belowTarget(row);
        cells.push(A.el("td", {
          class: "num" + (flagged ? " flag" : ""),
          "data-col": figure.key,
          "data-value": row[figure.key] === null ? "" : row[figure.key],
          title: figure.key === "no_show_rate" ? t("office.no_show_count", { n: row.no_show }) : null
        }, [format(figure.type, row[figure.key]),
          flagged ? A.el("span", { class: "flag-text", text: t("office.below_target") }) : null]));
      });
      body.appendChild(A.el("tr", attrs, cells));
    });
    renderTotals(level);
    var empty = $("#table-empty");
    empty.textContent = t(level === "service" ? "office.empty_service" : "office.empty");
    empty.hidden = state.rows.length > 0;
  }

  /* Sums of the counts (a median or a share of targets cannot be added up). */
  function renderTotals(level) {
    var foot = A.clear($("#report-table tfoot"));
    if (level === "service" || state.rows.length < 2) return;
    var total = { issued: 0, served: 0, no_show: 0 };
    state.rows.forEach(function (row) {
      total.issued += row.issued;
      total.served += row.served;
      total.no_show += row.no_show;
    });
    total.no_show_rate = total.issued > 0 ? 100 * total.no_show / total.issued : null;
    var cells = [A.el("th", { scope: "row", text: t("office.total") })];
    FIGURES.forEach(function (figure) {
      var known = Object.prototype.hasOwnProperty.call(total, figure.key);
      cells.push(A.el("td", { class: "num", "data-col": figure.key },
        known ? format(figure.type, total[figure.key]) : ""));
    });
    foot.appendChild(A.el("tr", {}, cells));
  }

  /* ---------- charts: bars for the tickets, lines for the median and p90 wait ---------- */

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (attrs[name] !== null && attrs[name] !== undefined) node.setAttribute(name, String(attrs[name]));
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  /* A step of 1, 2 or 5 times a power of ten, at least `least`, so four steps cover value. */
  function niceStep(value, least) {
    var raw = Math.max(value / 4, least);
    var power = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var factors = [1, 2, 5, 10];
    for (var i = 0; i < factors.length; i++) if (factors[i] * power >= raw - 1e-9) return factors[i] * power;
    return 10 * power;
  }

  function chartSlots(kind, rows, period) {
    var slots = [];
    if (kind === "hour") {
      var hours = rows.map(function (row) { return row.hour; });
      for (var h = Math.min.apply(null, hours); h <= Math.max.apply(null, hours); h++) slots.push(h);
      return slots;
    }
    var days = Math.round((msOf(period.to) - msOf(period.from)) / DAY_MS) + 1;
    if (days > MAX_DAY_SLOTS) return rows.map(function (row) { return row.date; });
    for (var d = 0; d < days; d++) slots.push(addDays(period.from, d));
    return slots;
  }

  function renderChart(box, kind, rows, period) {
    A.clear(box);
    if (!rows.length) { box.appendChild(A.el("p", { class: "muted chart-empty", text: t("office.chart_empty") })); return; }
    var W = 640, H = 250, L = 44, R = 46, T = 24, B = 30;
    var plotW = W - L - R, plotH = H - T - B;
    var byKey = {};
    rows.forEach(function (row) { byKey[kind === "hour" ? row.hour : row.date] = row; });
    var slots = chartSlots(kind, rows, period);
    var countStep = niceStep(Math.max.apply(null, rows.map(function (r) { return r.issued; })), 1);
    var waitStep = niceStep(Math.max.apply(null, rows.map(function (r) { return r.wait_p90_min || 0; })), 1);
    var slotW = plotW / slots.length;
    var label = function (key) { return kind === "hour" ? (key < 10 ? "0" : "") + key + ":00" : dayShort.format(new Date(msOf(key))); };
    var x = function (i) { return L + slotW * (i + 0.5); };
    var yCount = function (n) { return T + plotH - plotH * n / (4 * countStep); };
    var yWait = function (m) { return T + plotH - plotH * m / (4 * waitStep); };
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart-svg", role: "img",
      "aria-label": box.parentNode.querySelector("figcaption").textContent });
    root.appendChild(svg("text", { x: L - 6, y: 12, class: "axis-title", "text-anchor": "end" }, [t("office.axis_tickets")]));
    root.appendChild(svg("text", { x: W - R + 6, y: 12, class: "axis-title" }, [t("office.axis_minutes")]));
    for (var tick = 0; tick <= 4; tick++) {
      var y = yCount(tick * countStep);
      root.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: tick ? "grid" : "baseline" }));
      root.appendChild(svg("text", { x: L - 6, y: y + 4, class: "tick", "text-anchor": "end" }, [format("int", tick * countStep)]));
      root.appendChild(svg("text", { x: W - R + 6, y: y + 4, class: "tick tick-wait" }, [format("int", tick * waitStep)]));
    }
    var every = Math.ceil(slots.length / 12);
    var lines = { wait_median_min: [], wait_p90_min: [] };
    slots.forEach(function (key, i) {
      if (i % every === 0) {
        root.appendChild(svg("text", { x: x(i), y: H - 10, class: "tick", "text-anchor": "middle" }, [label(key)]));
      }
      var row = byKey[key];
      if (!row) { lines.wait_median_min.push(null); lines.wait_p90_min.push(null); return; }
      var top = yCount(row.issued);
      root.appendChild(svg("rect", {
        class: "bar", "data-key": key, x: x(i) - slotW * 0.35, width: slotW * 0.7, y: top, height: T + plotH - top
      }, [svg("title", {}, [t("office.bar_title", {
        when: label(key), n: format("int", row.issued), median: format("min", row.wait_median_min),
        p90: format("min", row.wait_p90_min)
      })])]));
      Object.keys(lines).forEach(function (name) {
        lines[name].push(row[name] === null ? null : [x(i), yWait(row[name])]);
      });
    });
    Object.keys(lines).forEach(function (name) {
      var css = name === "wait_median_min" ? "median" : "p90";
      var d = "";
      lines[name].forEach(function (point, i) {
        if (!point) return;
        d += (i > 0 && lines[name][i - 1] ? " L" : " M") + point[0].toFixed(1) + " " + point[1].toFixed(1);
        root.appendChild(svg("circle", { cx: point[0], cy: point[1], r: 3.5, class: "point point-" + css }));
      });
      if (d) root.appendChild(svg("path", { d: d.trim(), class: "line line-" + css }));
    });
    box.appendChild(root);
  }

  /* ---------- exports: read with the token, saved through a Blob and <a download> ---------- */

  function filenameOf(disposition) {
    var match = /filename="?([^";]+)"?/i.exec(disposition || "");
    return match ? match[1] : null;
  }

  function exportFile(kind, button) {
    var params = filters();
    var path = kind === "log" ? "/reports/ticket-log?" + query(params) :
      "/reports/wait-times?" + query(Object.assign({ group_by: LEVELS[state.level].group, format: kind }, params));
    var status = $("#export-status");
    status.textContent = t("office.export_busy");
    status.hidden = false;
    button.disabled = true;
    fetch(A.boot.api + path, {
      headers: { Authorization: "Bearer " + state.session.token }, credentials: "omit", cache: "no-store"
    }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          throw A.httpError(response.status, A.parseBody(text), response.headers.get("Retry-After"));
        });
      }
      var name = filenameOf(response.headers.get("Content-Disposition")) ||
        "antrean-" + (kind === "log" ? "ticket-log" : "wait-times") + "-" + state.from + "-" + state.to +
        "." + (kind === "xlsx" ? "xlsx" : "csv");
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = A.el("a", { href: url, download: name, hidden: true });
        document.body.appendChild(link);
        link.click();
        document.body.removeChild(link);
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        status.textContent = t("office.export_done", { name: name });
      });
    }).then(null, function (error) {
      if (error.status === 401) { sessionEnded(); return; }
      if (!error.status) error.offline = true;
      status.textContent = explain(error);
    }).then(function () { button.disabled = false; });
  }

  /* ---------- start ---------- */

  function start() {
    A.loginForm.bind(afterLogin);
    $("#btn-logout").addEventListener("click", logout);
    $("#btn-back").addEventListener("click", back);
    $("#btn-refresh").addEventListener("click", function () { load(false); });
    A.$$(".preset").forEach(function (button) {
      button.addEventListener("click", function () {
        setPreset(button.getAttribute("data-preset"));
        load(false);
      });
    });
    ["#date-from", "#date-to"].forEach(function (id) {
      $(id).addEventListener("change", function () { state.preset = null; markPreset(); });
    });
    $("#period-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (applyPeriod()) load(false);
    });
    A.$$("[data-export]").forEach(function (button) {
      button.addEventListener("click", function () { exportFile(button.getAttribute("data-export"), button); });
    });
    A.session.restore().then(function (session) {
      if (session) afterLogin(session); else showLogin("");
    }, function (error) {
      A.clear($("#office-loading")).appendChild(A.el("span", { class: "error", text: explain(error) }));
    });
  }

  start();
})();
