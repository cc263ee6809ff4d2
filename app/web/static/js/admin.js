/* Admin (/admin): clinics, and per clinic its services, counters, devices and accounts.
   An admin sees every clinic; a clinic_admin only their own; staff are turned away.
   Plain ES2015, no build step (see common.js). */
(function () {
  "use strict";

  var A = window.Antrean;
  var t = A.t;
  var $ = A.$;

  var CLINIC_KEY = "antrean.admin.clinic";
  var TAB_KEY = "antrean.admin.tab";
  var TABS = ["services", "counters", "devices", "users", "bpjs"];
  var VIEWS = ["admin-loading", "login-section", "not-allowed", "clinics-section", "clinic-detail"];
  var INDONESIAN_ZONES = ["Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura"];
  var OTHER_ZONES = ["UTC", "Asia/Dili", "Asia/Kuala_Lumpur", "Asia/Singapore", "Asia/Manila",
    "Asia/Bangkok", "Australia/Darwin", "Australia/Perth"];
  var DEFAULT_ZONE = "Asia/Makassar";
  var state = {
    session: null,
    clinic: null,
    editingClinic: null, // the clinic the form edits, or null when it creates one
    services: [],
    tab: "services"
  };

  /* ---------- helpers ---------- */

  function has(key) {
    return Object.prototype.hasOwnProperty.call(A.boot.messages, key);
  }

  function showView(id) {
    VIEWS.forEach(function (name) { $("#" + name).hidden = name !== id; });
  }

  function role() {
    return state.session && state.session.me ? state.session.me.role : null;
  }

  function isAdmin() { return role() === "admin"; }

  /* An API call with the session's token. Rejects like A.api (.status, .code, .fields: an
     invalid_input's fields, shown next to the form); a 401 ends the session. */
  function request(method, path, json) {
    var headers = { Accept: "application/json" };
    var body;
    if (state.session) headers.Authorization = "Bearer " + state.session.token;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    return fetch(A.boot.api + path, {
      method: method, headers: headers, body: body, credentials: "omit", cache: "no-store"
    }).then(function (response) {
      A.setOffline("http", false);
      return response.text().then(function (text) {
        var data = A.parseBody(text);
        if (response.ok) return { status: response.status, data: data };
        var error = A.httpError(response.status, data, response.headers.get("Retry-After"));
        if (error.status === 401 && state.session) sessionEnded();
        throw error;
      });
    }, function (cause) {
      var error = new Error(String(cause));
      error.offline = true;
      A.setOffline("http", true);
      throw error;
    });
  }

  /* What went wrong, as lines of plain words: an invalid_input field by field (its `loc` and
     `type` in this page's words, never the server's English `msg`); anything else by its code
     (admin.code.*: prefix_taken, username_taken...), see A.errorText. */
  function explain(error) {
    if (error.code === "invalid_input" && error.fields && error.fields.length) {
      return error.fields.map(function (item) {
        var field = item.field;
        var label = field && has("admin.field." + field) ? t("admin.field." + field) : field;
        var what = has("admin.invalid." + item.type) ? t("admin.invalid." + item.type) : t("admin.invalid.other");
        var hint = field && has("admin.hint." + field) ? " (" + t("admin.hint." + field) + ")" : "";
        return (label ? label + ": " : "") + what + hint;
      });
    }
    return [A.errorText(error, "admin")];
  }

  /* The inputs of form (or a table row) that an invalid_input names, marked. */
  function markFields(root, error) {
    A.$$(".invalid", root).forEach(function (node) { node.classList.remove("invalid"); });
    ((error && error.fields) || []).forEach(function (item) {
      var input = item.field ?
        root.querySelector("[name='" + item.field + "'], [data-field='" + item.field + "']") : null;
      if (input) input.classList.add("invalid");
    });
  }

  /* Errors next to a form: the list of lines, and the fields they name marked. */
  function showErrors(box, error, form) {
    A.clear(box);
    if (form) markFields(form, error);
    if (!error) { box.hidden = true; return; }
    explain(error).forEach(function (line) { box.appendChild(A.el("li", { text: line })); });
    box.hidden = false;
  }

  /* Guards a form against double submits while its request is in flight. */
  function busy(form, on) {
    A.$$("button, input, select, textarea", form).forEach(function (node) {
      if (on) {
        node.setAttribute("data-was-disabled", node.disabled ? "1" : "");
        node.disabled = true;
      } else {
        node.disabled = node.getAttribute("data-was-disabled") === "1";
      }
    });
  }

  function numberOrNull(input) {
    var raw = input.value.trim();
    if (raw === "") return input.validity && input.validity.badInput ? NaN : null;
    return Number(raw);
  }

  function localError(field, type) {
    return { status: 422, code: "invalid_input", fields: [{ field: field, loc: ["body", field], type: type }] };
  }

  function pageUrl(kind, clinicId) {
    return location.protocol + "//" + location.host + "/" + kind + "/" + clinicId;
  }

  function showFailure(error) {
    if (error.status === 401) return;
    showView("admin-loading");
    var box = A.clear($("#admin-loading"));
    box.appendChild(A.el("span", { class: "error", text: explain(error).join(" ") }));
  }

  /* ---------- session ---------- */

  function showLogin(message) {
    state.session = null;
    state.clinic = null;
    $("#userbar").hidden = true;
    $("#clinic-form-section").hidden = true;
    showView("login-section");
    A.loginForm.show(message);
  }

  function sessionEnded() {
    A.session.clear();
    showLogin(t("common.session_expired"));
  }

  function afterLogin(session) {
    if (!A.loginForm.accept(session, "admin")) {
      showLogin(t("admin.not_allowed"));
      return;
    }
    state.session = session;
    $("#userbar-role").textContent = t("admin.role." + session.me.role);
    if (session.me.role === "admin") {
      var stored = A.store.get(CLINIC_KEY);
      if (stored) openClinic(stored); else showClinics();
    } else if (session.me.role === "clinic_admin" && session.me.clinic_id) {
      openClinic(session.me.clinic_id);
    } else {
      showView("not-allowed");
    }
  }

  /* ---------- clinics ---------- */

  function showClinics() {
    state.clinic = null;
    A.store.remove(CLINIC_KEY);
    $("#clinic-form-section").hidden = true;
    showView("admin-loading");
    request("GET", "/clinics").then(function (result) {
      var body = A.clear($("#clinic-list tbody"));
      result.data.forEach(function (clinic) {
        body.appendChild(A.el("tr", { "data-clinic-id": clinic.id }, [
          A.el("td", {}, [A.el("strong", { text: clinic.name }),
            clinic.address ? A.el("div", { class: "muted small-text", text: clinic.address }) : null]),
          A.el("td", { text: clinic.code }),
          A.el("td", { text: clinic.timezone }),
          A.el("td", { class: "row-actions" }, [
            A.el("button", { type: "button", class: "small", "data-action": "open",
              text: t("admin.clinic_open"), onclick: function () { openClinic(clinic.id); } }),
            A.el("button", { type: "button", class: "secondary small", "data-action": "edit",
              text: t("admin.edit"), onclick: function () { openClinicForm(clinic); } })
          ])
        ]));
      });
      $("#clinic-list-empty").hidden = result.data.length > 0;
      showView("clinics-section");
    }, showFailure);
  }

  function fillTimezones(selected) {
    var select = A.clear($("#clinic-timezone"));
    var indonesia = A.el("optgroup", { label: t("admin.timezones_indonesia") });
    INDONESIAN_ZONES.forEach(function (zone) {
      indonesia.appendChild(A.el("option", { value: zone, text: zone + " — " + t("admin.tz." + zone.split("/")[1].toLowerCase()) }));
    });
    select.appendChild(indonesia);
    var others = OTHER_ZONES.slice();
    try {
      if (typeof Intl.supportedValuesOf === "function") others = Intl.supportedValuesOf("timeZone");
    } catch (e) { /* older browser: the short list */ }
    if (selected && INDONESIAN_ZONES.indexOf(selected) < 0 && others.indexOf(selected) < 0) {
      others = [selected].concat(others);
    }
    var group = A.el("optgroup", { label: t("admin.timezones_other") });
    others.forEach(function (zone) {
      if (INDONESIAN_ZONES.indexOf(zone) >= 0) return;
      group.appendChild(A.el("option", { value: zone, text: zone }));
    });
    select.appendChild(group);
    select.value = selected || DEFAULT_ZONE;
  }

  function openClinicForm(clinic) {
    state.editingClinic = clinic;
    $("#clinic-form-title").textContent = clinic ?
      t("admin.clinic_edit_title", { name: clinic.name }) : t("admin.clinic_new");
    $("#clinic-code").value = clinic ? clinic.code : "";
    $("#clinic-name").value = clinic ? clinic.name : "";
    $("#clinic-address").value = clinic && clinic.address ? clinic.address : "";
    $("#clinic-hours").value = clinic && clinic.opening_hours ? clinic.opening_hours : "";
    $("#clinic-remote").checked = clinic ? clinic.allow_remote_tickets : true;
    fillTimezones(clinic ? clinic.timezone : DEFAULT_ZONE);
    showErrors($("#clinic-form-error"), null, $("#clinic-form"));
    $("#clinic-form-section").hidden = false;
    $("#clinic-code").focus();
  }

  function onClinicSubmit(event) {
    event.preventDefault();
    var form = $("#clinic-form");
    var editing = state.editingClinic;
    var address = $("#clinic-address").value.trim();
    var hours = $("#clinic-hours").value.trim();
    var body = {
      code: $("#clinic-code").value.trim(),
      name: $("#clinic-name").value.trim(),
      timezone: $("#clinic-timezone").value,
      allow_remote_tickets: $("#clinic-remote").checked
    };
    if (editing) {
      body.address = address || null;
      body.opening_hours = hours || null;
    } else {
      if (address) body.address = address;
      if (hours) body.opening_hours = hours;
    }
    busy(form, true);
    var call = editing ? request("PATCH", "/clinics/" + editing.id, body) :
      request("POST", "/clinics", body);
    call.then(function (result) {
      busy(form, false);
      $("#clinic-form-section").hidden = true;
      if (editing && state.clinic && state.clinic.id === editing.id) {
        state.clinic = result.data;
        renderClinicHead();
      } else {
        openClinic(result.data.id);
      }
    }, function (error) {
      busy(form, false);
      showErrors($("#clinic-form-error"), error, form);
    });
  }

  /* ---------- one clinic ---------- */

  function openClinic(clinicId) {
    $("#clinic-form-section").hidden = true;
    showView("admin-loading");
    request("GET", "/clinics/" + clinicId).then(function (result) {
      state.clinic = result.data;
      if (isAdmin()) A.store.set(CLINIC_KEY, state.clinic.id);
      renderClinicHead();
      hideKey();
      showView("clinic-detail");
      var tab = A.store.get(TAB_KEY);
      selectTab(TABS.indexOf(tab) >= 0 ? tab : "services");
    }, function (error) {
      if (error.status === 404 && isAdmin()) { showClinics(); return; }
      showFailure(error);
    });
  }

  function renderClinicHead() {
    var clinic = state.clinic;
    $("#clinic-title").textContent = clinic.name;
    $("#clinic-subtitle").textContent = clinic.code + " · " + clinic.timezone;
    $("#btn-back-clinics").hidden = !isAdmin();
    var pages = A.clear($("#clinic-pages"));
    [["kiosk", "admin.page_kiosk"], ["display", "admin.page_display"]].forEach(function (entry) {
      pages.appendChild(A.el("a", { href: "/" + entry[0] + "/" + clinic.id, target: "_blank",
        rel: "noopener", text: t(entry[1]) }));
    });
    if (clinic.allow_remote_tickets) {
      pages.appendChild(A.el("a", { href: "/take/" + clinic.id, target: "_blank", rel: "noopener",
        text: t("admin.page_take") }));
    }
    pages.appendChild(A.el("a", { href: "/staff", target: "_blank", rel: "noopener",
      text: t("admin.page_staff") }));
  }

  function selectTab(name) {
    state.tab = name;
    A.store.set(TAB_KEY, name);
    TABS.forEach(function (tab) {
      var button = $("#tab-" + tab);
      button.classList.toggle("active", tab === name);
      button.setAttribute("aria-selected", tab === name ? "true" : "false");
      $("#panel-" + tab).hidden = tab !== name;
    });
    if (name !== "devices") hideKey();
    if (name === "services") loadServices();
    else if (name === "counters") loadCounters();
    else if (name === "devices") loadDevices();
    else if (name === "bpjs") A.adminBpjs.load(state.clinic);
    else loadUsers();
  }

  /* ---------- services ---------- */

  function loadServices() {
    var clinicId = state.clinic.id;
    return request("GET", "/clinics/" + clinicId + "/services").then(function (result) {
      if (!state.clinic || state.clinic.id !== clinicId) return;
      state.services = result.data;
      if (state.tab === "services") renderServices();
      if (state.tab === "counters") renderCounterChoices();
    }, showFailure);
  }

  function renderServices() {
    var body = A.clear($("#services-table tbody"));
    state.services.forEach(function (service) {
      serviceRows(service).forEach(function (row) { body.appendChild(row); });
    });
    $("#services-empty").hidden = state.services.length > 0;
  }

  function serviceRows(service) {
    var feedback = A.el("td", { colspan: 8, class: "row-feedback" });
    var feedbackRow = A.el("tr", { class: "feedback-row", "data-feedback-for": service.id, hidden: true },
      [feedback]);
    var entry = A.el("select", { name: "entry", "aria-label": t("admin.field.entry") }, [
      A.el("option", { value: "true", text: t("admin.entry.true") }),
      A.el("option", { value: "false", text: t("admin.entry.false") })
    ]);
    entry.value = service.entry ? "true" : "false";
    var today = t("admin.issued_today", { n: service.issued_today }) +
      (service.daily_quota ? " / " + service.daily_quota : "") + " · " +
      t("admin.waiting", { n: service.waiting });
    var row = A.el("tr", { "data-service-id": service.id, "data-prefix": service.prefix }, [
      A.el("td", {}, [A.el("input", { name: "name", value: service.name, maxlength: 120,
        "aria-label": t("admin.field.name") })]),
      A.el("td", {}, [A.el("input", { name: "prefix", value: service.prefix, maxlength: 2,
        class: "short", "aria-label": t("admin.field.prefix") })]),
      A.el("td", {}, [A.el("input", { name: "daily_quota", type: "number", min: 1, max: 9999,
        class: "short", value: service.daily_quota === null ? "" : service.daily_quota,
        "aria-label": t("admin.field.daily_quota") })]),
      A.el("td", {}, [A.el("input", { name: "target_wait_minutes", type: "number", min: 0, max: 1440,
        class: "short", value: service.target_wait_minutes === null ? "" : service.target_wait_minutes,
        "aria-label": t("admin.field.target_wait_minutes") })]),
      A.el("td", {}, [entry]),
      A.el("td", {}, [A.el("label", { class: "check" }, [
        A.el("input", { type: "checkbox", name: "is_open", checked: service.is_open }),
        t("admin.open")
      ])]),
      A.el("td", { class: "muted small-text", text: today }),
      A.el("td", {}, [A.el("button", { type: "button", class: "small", "data-action": "save",
        text: t("common.save"), onclick: function () { saveService(service, row, feedbackRow); } })])
    ]);
    return [row, feedbackRow];
  }

  function setFeedback(feedbackRow, lines, isError) {
    var cell = A.clear(feedbackRow.firstChild);
    cell.className = "row-feedback" + (isError ? " error" : " ok");
    lines.forEach(function (line) { cell.appendChild(A.el("div", { text: line })); });
    feedbackRow.hidden = lines.length === 0;
  }

  function field(row, name) { return row.querySelector("[name='" + name + "']"); }

  function saveService(service, row, feedbackRow) {
    var quota = numberOrNull(field(row, "daily_quota"));
    var target = numberOrNull(field(row, "target_wait_minutes"));
    if (quota !== null && isNaN(quota)) {
      showRowError(row, feedbackRow, localError("daily_quota", "int_parsing"));
      return;
    }
    if (target !== null && isNaN(target)) {
      showRowError(row, feedbackRow, localError("target_wait_minutes", "int_parsing"));
      return;
    }
    var values = {
      name: field(row, "name").value.trim(),
      prefix: field(row, "prefix").value.trim().toUpperCase(),
      daily_quota: quota,
      target_wait_minutes: target,
      entry: field(row, "entry").value === "true",
      is_open: field(row, "is_open").checked
    };
    var patch = {};
    Object.keys(values).forEach(function (name) {
      if (values[name] !== service[name]) patch[name] = values[name];
    });
    if (!Object.keys(patch).length) {
      setFeedback(feedbackRow, [t("admin.no_changes")], false);
      return;
    }
    busy(row, true);
    request("PATCH", "/services/" + service.id, patch).then(function (result) {
      var rows = serviceRows(result.data);
      row.parentNode.replaceChild(rows[0], row);
      feedbackRow.parentNode.replaceChild(rows[1], feedbackRow);
      setFeedback(rows[1], [t("admin.saved")], false);
      for (var i = 0; i < state.services.length; i++) {
        if (state.services[i].id === result.data.id) state.services[i] = result.data;
      }
    }, function (error) {
      busy(row, false);
      showRowError(row, feedbackRow, error);
    });
  }

  function showRowError(row, feedbackRow, error) {
    markFields(row, error);
    setFeedback(feedbackRow, explain(error), true);
  }

  function onServiceCreate(event) {
    event.preventDefault();
    var form = $("#service-form");
    var quota = numberOrNull($("#service-quota"));
    var target = numberOrNull($("#service-target"));
    var body = {
      name: $("#service-name").value.trim(),
      prefix: $("#service-prefix").value.trim().toUpperCase(),
      entry: $("#service-entry").value === "true"
    };
    if (quota !== null) body.daily_quota = isNaN(quota) ? $("#service-quota").value : quota;
    if (target !== null) body.target_wait_minutes = isNaN(target) ? $("#service-target").value : target;
    if (isNaN(quota)) { showErrors($("#service-form-error"), localError("daily_quota", "int_parsing"), form); return; }
    if (isNaN(target)) { showErrors($("#service-form-error"), localError("target_wait_minutes", "int_parsing"), form); return; }
    busy(form, true);
    request("POST", "/clinics/" + state.clinic.id + "/services", body).then(function () {
      busy(form, false);
      form.reset();
      showErrors($("#service-form-error"), null, form);
      loadServices();
    }, function (error) {
      busy(form, false);
      showErrors($("#service-form-error"), error, form);
    });
  }

  /* ---------- counters ---------- */

  function loadCounters() {
    var clinicId = state.clinic.id;
    return Promise.all([
      request("GET", "/clinics/" + clinicId + "/services"),
      request("GET", "/clinics/" + clinicId + "/counters")
    ]).then(function (results) {
      if (!state.clinic || state.clinic.id !== clinicId || state.tab !== "counters") return;
      state.services = results[0].data;
      renderCounters(results[1].data);
      renderCounterChoices();
    }, showFailure);
  }

  function serviceChecks(selected, prefix) {
    var box = A.el("div", { class: "checks", "data-field": "service_ids" });
    state.services.forEach(function (service) {
      var label = service.name + " (" + service.prefix + ")" +
        (service.entry ? "" : " · " + t("admin.entry.false"));
      box.appendChild(A.el("label", { class: "check" }, [
        A.el("input", { type: "checkbox", value: service.id, "data-service-id": service.id,
          name: prefix + "service", checked: selected.indexOf(service.id) >= 0 }),
        label
      ]));
    });
    return box;
  }

  function checkedServices(root) {
    return A.$$("input[type=checkbox][data-service-id]", root)
      .filter(function (box) { return box.checked; })
      .map(function (box) { return parseInt(box.value, 10); });
  }

  function renderCounterChoices() {
    var box = A.clear($("#counter-services"));
    box.appendChild(serviceChecks([], "new-"));
  }

  function renderCounters(counters) {
    var body = A.clear($("#counters-table tbody"));
    counters.forEach(function (counter) {
      counterRows(counter).forEach(function (row) { body.appendChild(row); });
    });
    $("#counters-empty").hidden = counters.length > 0;
  }

  function counterRows(counter) {
    var feedbackRow = A.el("tr", { class: "feedback-row", hidden: true },
      [A.el("td", { colspan: 3, class: "row-feedback" })]);
    var row = A.el("tr", { "data-counter-id": counter.id }, [
      A.el("td", {}, [A.el("input", { name: "name", value: counter.name, maxlength: 120,
        "aria-label": t("admin.field.name") })]),
      A.el("td", {}, [serviceChecks(counter.service_ids, "c" + counter.id + "-")]),
      A.el("td", {}, [A.el("button", { type: "button", class: "small", "data-action": "save",
        text: t("common.save"), onclick: function () { saveCounter(counter, row, feedbackRow); } })])
    ]);
    return [row, feedbackRow];
  }

  function saveCounter(counter, row, feedbackRow) {
    var name = field(row, "name").value.trim();
    var ids = checkedServices(row);
    var patch = {};
    if (name !== counter.name) patch.name = name;
    if (ids.slice().sort().join(",") !== counter.service_ids.slice().sort().join(",")) {
      patch.service_ids = ids;
    }
    if (!Object.keys(patch).length) {
      setFeedback(feedbackRow, [t("admin.no_changes")], false);
      return;
    }
    busy(row, true);
    request("PATCH", "/counters/" + counter.id, patch).then(function (result) {
      var rows = counterRows(result.data);
      row.parentNode.replaceChild(rows[0], row);
      feedbackRow.parentNode.replaceChild(rows[1], feedbackRow);
      setFeedback(rows[1], [t("admin.saved")], false);
    }, function (error) {
      busy(row, false);
      setFeedback(feedbackRow, explain(error), true);
    });
  }

  function onCounterCreate(event) {
    event.preventDefault();
    var form = $("#counter-form");
    var body = { name: $("#counter-name").value.trim(), service_ids: checkedServices(form) };
    busy(form, true);
    request("POST", "/clinics/" + state.clinic.id + "/counters", body).then(function () {
      busy(form, false);
      form.reset();
      showErrors($("#counter-form-error"), null, form);
      loadCounters();
    }, function (error) {
      busy(form, false);
      showErrors($("#counter-form-error"), error, form);
    });
  }

  /* ---------- devices ---------- */

  function loadDevices() {
    var clinicId = state.clinic.id;
    return request("GET", "/clinics/" + clinicId + "/devices").then(function (result) {
      if (!state.clinic || state.clinic.id !== clinicId || state.tab !== "devices") return;
      var body = A.clear($("#devices-table tbody"));
      result.data.forEach(function (device) {
        var url = pageUrl(device.kind, clinicId);
        body.appendChild(A.el("tr", { "data-device-id": device.id }, [
          A.el("td", { text: device.name }),
          A.el("td", { text: t("admin.kind." + device.kind) }),
          A.el("td", {}, [A.el("a", { href: url, target: "_blank", rel: "noopener", text: url })])
        ]));
      });
      $("#devices-empty").hidden = result.data.length > 0;
    }, showFailure);
  }

  function onDeviceCreate(event) {
    event.preventDefault();
    var form = $("#device-form");
    var body = { name: $("#device-name").value.trim(), kind: $("#device-kind").value };
    busy(form, true);
    hideKey();
    request("POST", "/clinics/" + state.clinic.id + "/devices", body).then(function (result) {
      busy(form, false);
      form.reset();
      showErrors($("#device-form-error"), null, form);
      showKey(result.data);
      loadDevices();
    }, function (error) {
      busy(form, false);
      showErrors($("#device-form-error"), error, form);
    });
  }

  /* The key exists only in this response: shown once, never stored by the page. */
  function showKey(device) {
    var url = pageUrl(device.kind, device.clinic_id);
    $("#device-key").textContent = device.key;
    var link = $("#device-url");
    link.href = url;
    link.textContent = url;
    $("#copy-status").hidden = true;
    var box = $("#device-key-box");
    box.setAttribute("data-device-id", device.id);
    box.hidden = false;
    if (box.scrollIntoView) box.scrollIntoView();
  }

  function hideKey() {
    $("#device-key-box").hidden = true;
    $("#device-key").textContent = "";
  }

  function copyKey() {
    var code = $("#device-key");
    var key = code.textContent;
    function done() { $("#copy-status").hidden = false; }
    function selectIt() {
      var range = document.createRange();
      range.selectNodeContents(code);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { if (document.execCommand("copy")) done(); } catch (e) { /* selected: Ctrl+C works */ }
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(key).then(done, selectIt);
    } else {
      selectIt();
    }
  }

  /* ---------- users ---------- */

  function loadUsers() {
    var clinicId = state.clinic.id;
    $("#user-role-admin").hidden = !isAdmin();
    $("#user-role-admin").disabled = !isAdmin();
    return request("GET", "/users").then(function (result) {
      if (!state.clinic || state.clinic.id !== clinicId || state.tab !== "users") return;
      var body = A.clear($("#users-table tbody"));
      result.data.filter(function (user) {
        return user.clinic_id === clinicId || (isAdmin() && user.role === "admin");
      }).forEach(function (user) {
        body.appendChild(A.el("tr", { "data-username": user.username }, [
          A.el("td", { text: user.username }),
          A.el("td", { text: t("admin.role." + user.role) }),
          A.el("td", { text: user.is_active ? t("admin.user_active") : t("admin.user_disabled") })
        ]));
      });
    }, showFailure);
  }

  function onUserCreate(event) {
    event.preventDefault();
    var form = $("#user-form");
    var userRole = $("#user-role").value;
    var body = {
      username: $("#user-username").value.trim(),
      password: $("#user-password").value,
      role: userRole,
      clinic_id: userRole === "admin" ? null : state.clinic.id
    };
    $("#user-form-done").hidden = true;
    busy(form, true);
    request("POST", "/users", body).then(function (result) {
      busy(form, false);
      form.reset();
      showErrors($("#user-form-error"), null, form);
      var done = $("#user-form-done");
      done.textContent = t("admin.user_created", { name: result.data.username });
      done.hidden = false;
      loadUsers();
    }, function (error) {
      busy(form, false);
      showErrors($("#user-form-error"), error, form);
    });
  }

  /* ---------- wiring ---------- */

  // What the BPJS tab (admin_bpjs.js) borrows of this page.
  A.admin = {
    request: request,
    showErrors: showErrors,
    busy: busy,
    showFailure: showFailure,
    current: function () { return state.tab === "bpjs" ? state.clinic : null; }
  };

  A.loginForm.bind(afterLogin);
  $("#btn-logout").addEventListener("click", function () {
    A.session.clear();
    showLogin();
  });
  $("#btn-new-clinic").addEventListener("click", function () { openClinicForm(null); });
  $("#btn-edit-clinic").addEventListener("click", function () { openClinicForm(state.clinic); });
  $("#btn-back-clinics").addEventListener("click", showClinics);
  $("#clinic-form").addEventListener("submit", onClinicSubmit);
  $("#clinic-cancel").addEventListener("click", function () {
    $("#clinic-form-section").hidden = true;
  });
  TABS.forEach(function (tab) {
    $("#tab-" + tab).addEventListener("click", function () { selectTab(tab); });
  });
  $("#service-form").addEventListener("submit", onServiceCreate);
  $("#counter-form").addEventListener("submit", onCounterCreate);
  $("#device-form").addEventListener("submit", onDeviceCreate);
  $("#user-form").addEventListener("submit", onUserCreate);
  $("#btn-copy-key").addEventListener("click", copyKey);
  $("#btn-key-done").addEventListener("click", hideKey);

  A.session.restore().then(function (session) {
    if (session) afterLogin(session); else showLogin();
  }, function (error) {
    showLogin(A.errorText(error, "admin"));
  });
})();
