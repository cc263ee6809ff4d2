/* Admin, BPJS tab: the clinic's bridge settings (PUT /clinics/{id}/bpjs: a secret left empty
   keeps its stored value, which the API never shows back), the services' BPJS poli codes with
   BPJS's own poli list as choices (GET /clinics/{id}/bpjs/poli), and the outbox of calls to BPJS,
   with a retry for the calls BPJS refused. Loaded before admin.js, which lends it its request
   and form helpers (A.admin) and calls A.adminBpjs.load when the tab opens. */
(function () {
  "use strict";

  var A = window.Antrean;
  var t = A.t;
  var $ = A.$;

  function admin() { return A.admin; }

  function clinicIdShown(clinicId) {
    var clinic = admin().current();
    return clinic !== null && clinic.id === clinicId;
  }

  function load(clinic) {
    $("#bpjs-form-done").hidden = true;
    admin().showErrors($("#bpjs-form-error"), null, $("#bpjs-form"));
    loadSettings(clinic);
    clearReference();
    loadPoli(clinic);
    loadOutbox(clinic);
  }

  /* ---------- settings ---------- */

  function loadSettings(clinic) {
    admin().request("GET", "/clinics/" + clinic.id + "/bpjs").then(function (result) {
      if (!clinicIdShown(clinic.id)) return;
      var settings = result.data;
      $("#bpjs-enabled").checked = !!settings.enabled;
      $("#bpjs-base-url").value = settings.base_url || "";
      $("#bpjs-username").value = settings.username || "";
      [["#bpjs-cons-id", settings.cons_id_set], ["#bpjs-cons-secret", settings.cons_secret_set],
        ["#bpjs-user-key", settings.user_key_set], ["#bpjs-password", settings.password_set]]
        .forEach(function (entry) {
          var input = $(entry[0]);
          input.value = "";
          input.placeholder = entry[1] ? t("admin.bpjs_secret_set") : t("admin.bpjs_secret_unset");
        });
      var url = location.protocol + "//" + location.host + settings.endpoint_path;
      $("#bpjs-endpoint").textContent = t("admin.bpjs_endpoint", { url: url });
    }, admin().showFailure);
  }

  function onSave(event) {
    event.preventDefault();
    var form = $("#bpjs-form");
    var clinic = admin().current();
    if (!clinic) return;
    var body = {
      enabled: $("#bpjs-enabled").checked,
      base_url: $("#bpjs-base-url").value.trim() || null,
      username: $("#bpjs-username").value.trim() || null
    };
    [["cons_id", "#bpjs-cons-id"], ["cons_secret", "#bpjs-cons-secret"],
      ["user_key", "#bpjs-user-key"], ["password", "#bpjs-password"]].forEach(function (entry) {
      var value = $(entry[1]).value;
      if (value !== "") body[entry[0]] = value; // left empty: keep what is stored
    });
    $("#bpjs-form-done").hidden = true;
    admin().busy(form, true);
    admin().request("PUT", "/clinics/" + clinic.id + "/bpjs", body).then(function () {
      admin().busy(form, false);
      admin().showErrors($("#bpjs-form-error"), null, form);
      $("#bpjs-form-done").hidden = false;
      loadSettings(clinic);
    }, function (error) {
      admin().busy(form, false);
      admin().showErrors($("#bpjs-form-error"), error, form);
    });
  }

  /* ---------- the services' BPJS poli codes ---------- */

  function loadPoli(clinic) {
    admin().showErrors($("#bpjs-poli-error"), null, null);
    admin().request("GET", "/clinics/" + clinic.id + "/services").then(function (result) {
      if (!clinicIdShown(clinic.id)) return;
      var body = A.clear($("#bpjs-poli-table tbody"));
      result.data.forEach(function (service) {
        body.appendChild(poliRow(service));
      });
    }, admin().showFailure);
  }

  function poliRow(service) {
    var input = A.el("input", { name: "bpjs_poli_code", maxlength: 16, class: "short",
      list: "bpjs-ref-choices", autocomplete: "off",
      value: service.bpjs_poli_code || "", "aria-label": t("admin.field.bpjs_poli_code") });
    var row = A.el("tr", { "data-prefix": service.prefix }, [
      A.el("td", { text: service.name }),
      A.el("td", { text: service.prefix }),
      A.el("td", {}, [input]),
      A.el("td", {}, [A.el("button", { type: "button", class: "secondary small",
        text: t("common.save"), onclick: function () { savePoli(service, input, row); } })])
    ]);
    return row;
  }

  function savePoli(service, input, row) {
    var code = input.value.trim();
    admin().busy(row, true);
    admin().request("PATCH", "/services/" + service.id, { bpjs_poli_code: code || null })
      .then(function (result) {
        // This row only: the others may hold edits not saved yet.
        admin().busy(row, false);
        admin().showErrors($("#bpjs-poli-error"), null, row);
        input.value = result.data.bpjs_poli_code || "";
        row.setAttribute("data-saved", "1");
      }, function (error) {
        row.removeAttribute("data-saved");
        admin().busy(row, false);
        admin().showErrors($("#bpjs-poli-error"), error, row);
      });
  }

  /* ---------- BPJS's poli list, asked live: the codes offered as choices ---------- */

  function clearReference() {
    admin().showErrors($("#bpjs-ref-error"), null, null);
    A.clear($("#bpjs-ref-choices"));
    A.clear($("#bpjs-ref-table tbody"));
    $("#bpjs-ref-table").hidden = true;
    $("#bpjs-ref-empty").hidden = true;
  }

  function fetchReference() {
    var clinic = admin().current();
    if (!clinic) return;
    var button = $("#bpjs-ref-fetch");
    clearReference();
    button.disabled = true;
    admin().request("GET", "/clinics/" + clinic.id + "/bpjs/poli").then(function (result) {
      button.disabled = false;
      if (!clinicIdShown(clinic.id)) return;
      var choices = $("#bpjs-ref-choices");
      var body = $("#bpjs-ref-table tbody");
      result.data.rows.forEach(function (poli) {
        var sub = poli.nmsubspesialis || poli.kdsubspesialis || "";
        choices.appendChild(A.el("option", { value: poli.kodepoli, label: poli.namapoli }));
        body.appendChild(A.el("tr", { "data-kodepoli": poli.kodepoli }, [
          A.el("td", { text: poli.kodepoli }),
          A.el("td", { text: poli.namapoli }),
          A.el("td", { text: sub })
        ]));
      });
      $("#bpjs-ref-table").hidden = result.data.rows.length === 0;
      $("#bpjs-ref-empty").hidden = result.data.rows.length > 0;
    }, function (error) {
      button.disabled = false;
      admin().showErrors($("#bpjs-ref-error"), error, null);
    });
  }

  /* ---------- outbox ---------- */

  function callText(item) {
    return item.kind === "batal" ? t("admin.bpjs_call.batal") : t("admin.bpjs_call.panggil_" + item.status);
  }

  function loadOutbox(clinic) {
    var query = $("#bpjs-outbox-state").value;
    var path = "/clinics/" + clinic.id + "/bpjs/outbox" + (query ? "?state=" + query : "");
    admin().request("GET", path).then(function (result) {
      if (!clinicIdShown(clinic.id)) return;
      var page = result.data;
      $("#bpjs-outbox-counts").textContent = t("admin.bpjs_counts", page.counts);
      var body = A.clear($("#bpjs-outbox-table tbody"));
      page.items.forEach(function (item) {
        body.appendChild(row(clinic, item));
      });
      $("#bpjs-outbox-empty").hidden = page.items.length > 0;
    }, function (error) {
      admin().showErrors($("#bpjs-outbox-error"), error, null);
    });
  }

  function row(clinic, item) {
    var state = t("admin.bpjs_state." + item.state);
    if (item.next_attempt_at && item.attempts > 0) {
      state += " · " + t("admin.bpjs_next", { time: A.formatTime(item.next_attempt_at, clinic.timezone) });
    }
    var retry = item.state === "failed" ?
      A.el("button", { type: "button", class: "secondary small", "data-retry": item.id,
        text: t("admin.bpjs_retry"), onclick: function () { retryRow(clinic, item.id); } }) : null;
    return A.el("tr", { "data-outbox-id": item.id, "data-state": item.state }, [
      A.el("td", { text: A.formatTime(item.created_at, clinic.timezone) }),
      A.el("td", { text: item.ticket_code }),
      A.el("td", { text: callText(item) }),
      A.el("td", { text: item.nomorkartu }),
      A.el("td", { text: state }),
      A.el("td", { text: String(item.attempts) }),
      A.el("td", { text: item.last_error || "" }),
      A.el("td", {}, [retry])
    ]);
  }

  function retryRow(clinic, outboxId) {
    admin().showErrors($("#bpjs-outbox-error"), null, null);
    admin().request("POST", "/bpjs/outbox/" + outboxId + "/retry").then(function () {
      loadOutbox(clinic);
    }, function (error) {
      admin().showErrors($("#bpjs-outbox-error"), error, null);
      loadOutbox(clinic);
    });
  }

  function refresh() {
    var clinic = admin().current();
    if (clinic) loadOutbox(clinic);
  }

  $("#bpjs-form").addEventListener("submit", onSave);
  $("#bpjs-ref-fetch").addEventListener("click", fetchReference);
  $("#bpjs-outbox-refresh").addEventListener("click", refresh);
  $("#bpjs-outbox-state").addEventListener("change", refresh);

  A.adminBpjs = { load: load };
})();
