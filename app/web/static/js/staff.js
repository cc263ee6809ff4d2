/* Staff console (/staff): log in, choose a counter, call and serve the queue, live.
   Plain ES2015, no build step (see common.js). */
(function () {
  "use strict";

  var A = window.Antrean;
  var t = A.t;
  var $ = A.$;

  var CLINIC_KEY = "antrean.staff.clinic"; // an admin's chosen clinic (admins have none of their own)
  var COUNTER_KEY = "antrean.staff.counter"; // {clinic_id, counter_id}: this PC's counter
  var NO_SHOW_KEY = "antrean.staff.no_show"; // {counter_id, ticket}: the last no-show, for Requeue
  var REFRESH_DELAY_MS = 150;
  var SECTIONS = ["staff-loading", "login-section", "clinic-section", "counter-section", "console"];

  var state = {
    session: null,
    clinic: null,
    services: [],
    counters: [],
    counter: null,
    snapshot: null,
    current: null, // the full ticket this counter holds (called or serving), or null
    lastNoShow: null, // the ticket this counter last marked no-show, until the next call
    busy: false,
    feed: null,
    feedClinicId: null,
    version: 0, // rises with every action, so a queue read begun before it is not shown
    refreshTimer: null,
    refreshing: false,
    refreshAgain: false,
    transferKey: null
  };

  /* ---------- small helpers ---------- */

  function showOnly(id) {
    SECTIONS.forEach(function (name) { $("#" + name).hidden = name !== id; });
  }

  function serviceById(id) {
    for (var i = 0; i < state.services.length; i++) {
      if (state.services[i].id === id) return state.services[i];
    }
    return null;
  }

  function serviceName(id) {
    var service = serviceById(id);
    return service ? service.name : "";
  }

  function isAdmin() {
    return state.session && state.session.me && state.session.me.role === "admin";
  }

  function errorMessage(error) {
    if (error.offline) return t("common.network_error");
    if (error.status === 409) return t("staff.error_conflict", { detail: error.detail });
    if (error.status === 403) return t("staff.error_forbidden");
    if (error.status === 404) return t("staff.error_not_found");
    return A.errorText(error);
  }

  /* An API call with the session's token; a 401 anywhere means the session is over. */
  function call(method, path, options) {
    var opts = Object.assign({}, options || {});
    if (state.session) opts.token = state.session.token;
    return A.api(method, path, opts).catch(function (error) {
      if (error.status === 401 && state.session) sessionEnded();
      throw error;
    });
  }

  /* ---------- session ---------- */

  function showLogin(message) {
    stopFeed();
    state.session = null;
    state.counter = null;
    $("#userbar").hidden = true;
    showOnly("login-section");
    var error = $("#login-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("#login-submit").disabled = false;
    $("#login-password").value = "";
    $("#login-username").focus();
  }

  function sessionEnded() {
    A.session.clear();
    showLogin(t("staff.session_expired"));
  }

  function onLoginSubmit(event) {
    event.preventDefault();
    var username = $("#login-username").value.trim();
    var password = $("#login-password").value;
    var error = $("#login-error");
    if (!username || !password) {
      error.textContent = t("staff.login_missing");
      error.hidden = false;
      return;
    }
    $("#login-submit").disabled = true;
    error.hidden = true;
    A.session.login(username, password).then(function (session) {
      $("#login-password").value = "";
      afterLogin(session);
    }, function (err) {
      $("#login-submit").disabled = false;
      error.textContent = err.status === 401 ? t("common.login_failed") : A.errorText(err);
      error.hidden = false;
    });
  }

  function logout() {
    A.session.clear();
    state.lastNoShow = null;
    showLogin();
  }

  function afterLogin(session) {
    if (!session.me || session.me.kind !== "user") {
      A.session.clear();
      showLogin(t("staff.not_staff"));
      return;
    }
    state.session = session;
    $("#userbar").hidden = false;
    $("#userbar-name").textContent = t("staff.signed_in_as", { name: session.me.name });
    $("#userbar-place").textContent = "";
    $("#btn-change-counter").hidden = true;
    if (session.me.clinic_id) {
      openClinic(session.me.clinic_id);
      return;
    }
    var stored = A.store.get(CLINIC_KEY);
    if (stored) openClinic(stored); else chooseClinic();
  }

  /* ---------- clinic and counter choice ---------- */

  function chooseClinic() {
    stopFeed();
    state.counter = null;
    $("#btn-change-counter").hidden = true;
    $("#userbar-place").textContent = "";
    showOnly("staff-loading");
    call("GET", "/clinics").then(function (result) {
      var box = A.clear($("#clinic-choices"));
      result.data.forEach(function (clinic) {
        box.appendChild(A.el("button", {
          type: "button",
          class: "choice",
          "data-clinic-id": clinic.id,
          onclick: function () {
            A.store.set(CLINIC_KEY, clinic.id);
            openClinic(clinic.id);
          }
        }, [A.el("strong", { text: clinic.name }), A.el("small", { text: clinic.code })]));
      });
      if (!result.data.length) box.appendChild(A.el("p", { class: "muted", text: t("staff.no_clinics") }));
      showOnly("clinic-section");
    }, function (error) {
      if (error.status !== 401) showLoadError(error);
    });
  }

  function showLoadError(error) {
    showOnly("staff-loading");
    var box = $("#staff-loading");
    A.clear(box);
    box.appendChild(A.el("span", { class: "error", text: errorMessage(error) }));
    box.appendChild(document.createTextNode(" "));
    box.appendChild(A.el("button", {
      type: "button", class: "secondary small", text: t("staff.retry"),
      onclick: function () { A.clear(box).textContent = t("common.loading"); afterLogin(state.session); }
    }));
  }

  function loadDirectory(clinicId) {
    return Promise.all([
      call("GET", "/clinics/" + clinicId),
      call("GET", "/clinics/" + clinicId + "/services"),
      call("GET", "/clinics/" + clinicId + "/counters")
    ]).then(function (results) {
      state.clinic = results[0].data;
      state.services = results[1].data;
      state.counters = results[2].data;
    });
  }

  function openClinic(clinicId) {
    showOnly("staff-loading");
    loadDirectory(clinicId).then(function () {
      var stored = A.store.get(COUNTER_KEY);
      var counter = null;
      if (stored && stored.clinic_id === state.clinic.id) counter = counterById(stored.counter_id);
      if (counter) openConsole(counter); else chooseCounter();
    }, function (error) {
      if (error.status === 404 && !state.session.me.clinic_id) {
        A.store.remove(CLINIC_KEY);
        chooseClinic();
      } else if (error.status !== 401) {
        showLoadError(error);
      }
    });
  }

  function counterById(id) {
    for (var i = 0; i < state.counters.length; i++) {
      if (state.counters[i].id === id) return state.counters[i];
    }
    return null;
  }

  function counterServiceNames(counter) {
    return counter.service_ids.map(serviceName).filter(Boolean).join(", ");
  }

  function chooseCounter() {
    state.counter = null;
    $("#btn-change-counter").hidden = true;
    $("#userbar-place").textContent = state.clinic.name;
    $("#counter-clinic").textContent = state.clinic.name;
    var box = A.clear($("#counter-choices"));
    state.counters.forEach(function (counter) {
      box.appendChild(A.el("button", {
        type: "button",
        class: "choice",
        "data-counter-id": counter.id,
        onclick: function () { openConsole(counter); }
      }, [A.el("strong", { text: counter.name }), A.el("small", { text: counterServiceNames(counter) })]));
    });
    $("#counter-empty").hidden = state.counters.length > 0;
    $("#btn-change-clinic").hidden = !!state.session.me.clinic_id;
    showOnly("counter-section");
  }

  /* ---------- the console ---------- */

  function openConsole(counter) {
    if (state.counter === null || state.counter.id !== counter.id) {
      state.current = null;
      state.snapshot = null;
      var stored = A.store.get(NO_SHOW_KEY);
      state.lastNoShow = stored && stored.counter_id === counter.id ? stored.ticket : null;
    }
    state.counter = counter;
    A.store.set(COUNTER_KEY, { clinic_id: state.clinic.id, counter_id: counter.id });
    $("#userbar-place").textContent = state.clinic.name + " · " + counter.name;
    $("#btn-change-counter").hidden = false;
    $("#console-counter").textContent = counter.name;
    $("#console-services").textContent = counterServiceNames(counter);
    setMessage("");
    showOnly("console");
    startFeed();
    render();
    refreshNow();
  }

  function startFeed() {
    if (state.feed && state.feedClinicId === state.clinic.id) return;
    stopFeed();
    state.feedClinicId = state.clinic.id;
    state.feed = new A.Feed("/ws/clinics/" + state.clinic.id, {
      onMessage: onFeedMessage,
      onOpen: scheduleRefresh
    }, { trackSeq: true });
  }

  function stopFeed() {
    if (state.feed) state.feed.stop();
    state.feed = null;
    state.feedClinicId = null;
    clearTimeout(state.refreshTimer);
  }

  function onFeedMessage(message) {
    if (message.type === "clinic.changed") {
      // Services or counters changed: names, transfer targets and the counter's services.
      loadDirectory(state.clinic.id).then(function () {
        if (!state.counter) return;
        var counter = counterById(state.counter.id);
        if (counter) {
          state.counter = counter;
          $("#console-counter").textContent = counter.name;
          $("#console-services").textContent = counterServiceNames(counter);
        }
        state.transferKey = null;
        scheduleRefresh();
      }, function () { scheduleRefresh(); });
      return;
    }
    scheduleRefresh();
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshNow, REFRESH_DELAY_MS);
  }

  function heldBy(snapshot, counterId) {
    for (var i = 0; i < snapshot.counters.length; i++) {
      if (snapshot.counters[i].counter_id === counterId) return snapshot.counters[i].ticket;
    }
    return null;
  }

  /* Read the queue snapshot and the ticket this counter holds (with its priority and recalls). */
  function refreshNow() {
    if (!state.counter || !state.clinic) return;
    if (state.refreshing) { state.refreshAgain = true; return; }
    state.refreshing = true;
    state.refreshAgain = false;
    var version = state.version;
    var counterId = state.counter.id;
    call("GET", "/clinics/" + state.clinic.id + "/queue").then(function (result) {
      var snapshot = result.data;
      var held = heldBy(snapshot, counterId);
      if (!held) return { snapshot: snapshot, ticket: null };
      return call("GET", "/tickets/" + held.id).then(function (ticket) {
        return { snapshot: snapshot, ticket: ticket.data };
      }, function (error) {
        if (error.status === 401) throw error;
        // The snapshot's view is enough to act on; priority and recalls stay unknown.
        return { snapshot: snapshot, ticket: held };
      });
    }).then(function (read) {
      if (state.version !== version) { state.refreshAgain = true; return; }
      if (!state.counter || state.counter.id !== counterId) return;
      state.snapshot = read.snapshot;
      state.current = read.ticket;
      render();
    }, function (error) {
      if (error.status !== 401 && !error.offline) setMessage(errorMessage(error), true);
    }).then(function () {
      state.refreshing = false;
      if (state.refreshAgain) scheduleRefresh();
    });
  }

  /* ---------- actions ---------- */

  function act(kind) {
    if (state.busy || !state.counter) return;
    var ticket = kind === "requeue" ? state.lastNoShow : state.current;
    var path;
    var options = {};
    var target = null;
    if (kind === "next") {
      path = "/counters/" + state.counter.id + "/call-next";
    } else {
      if (!ticket) return;
      var action = { recall: "recall", start: "start", done: "complete", no_show: "no-show",
        transfer: "transfer", requeue: "requeue" }[kind];
      path = "/tickets/" + ticket.id + "/" + action;
      if (kind === "transfer") {
        target = parseInt($("#transfer-service").value, 10);
        if (!target) return;
        options.json = { service_id: target };
      }
    }
    setBusy(true);
    setMessage("");
    call("POST", path, options).then(function (result) {
      state.version += 1;
      var data = result.data;
      if (kind === "next") {
        if (result.status === 204 || !data) {
          setMessage(t("staff.nobody_waiting"), false, "nobody-waiting");
        } else {
          state.current = data;
          rememberNoShow(null);
          setMessage(t("staff.called_msg", { code: data.code }));
        }
      } else if (kind === "recall" || kind === "start") {
        state.current = data;
        setMessage(t(kind === "recall" ? "staff.recalled_msg" : "staff.started_msg", { code: data.code }));
      } else if (kind === "done") {
        state.current = null;
        setMessage(t("staff.done_msg", { code: data.code }));
      } else if (kind === "no_show") {
        state.current = null;
        rememberNoShow(data);
        setMessage(t("staff.no_show_msg", { code: data.code }));
      } else if (kind === "transfer") {
        state.current = null;
        $("#transfer-service").value = "";
        setMessage(t("staff.transferred_msg", { code: data.code, service: serviceName(target) }));
      } else if (kind === "requeue") {
        rememberNoShow(null);
        setMessage(t("staff.requeued_msg", { code: data.code }));
      }
    }, function (error) {
      state.version += 1;
      if (error.status === 401) return;
      setMessage(errorMessage(error), true);
      // What the buttons offer may be stale (another PC acted): read the truth again.
      if (kind === "requeue" && error.status === 409) rememberNoShow(null);
    }).then(function () {
      setBusy(false);
      if (state.counter) scheduleRefresh();
    });
  }

  function rememberNoShow(ticket) {
    state.lastNoShow = ticket;
    if (ticket && state.counter) {
      A.store.set(NO_SHOW_KEY, { counter_id: state.counter.id, ticket: ticket });
    } else {
      A.store.remove(NO_SHOW_KEY);
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    document.body.classList.toggle("is-busy", busy);
    render();
  }

  function setMessage(text, isError, kind) {
    var box = $("#staff-message");
    box.textContent = text || "";
    box.hidden = !text;
    box.className = "staff-message" + (isError ? " error" : "") + (kind ? " is-" + kind : "");
  }

  /* ---------- rendering ---------- */

  function render() {
    if (!state.counter) return;
    renderCurrent();
    renderButtons();
    renderQueue();
  }

  function renderCurrent() {
    var ticket = state.current;
    var tz = state.clinic ? state.clinic.timezone : null;
    $("#current-code").textContent = ticket ? ticket.code : "";
    $("#current-none").hidden = !!ticket;
    $("#current-details").hidden = !ticket;
    var card = $(".current-card");
    card.classList.toggle("is-called", !!ticket && ticket.status === "called");
    card.classList.toggle("is-serving", !!ticket && ticket.status === "serving");
    if (ticket) {
      $("#current-status").textContent = t("common.status." + ticket.status);
      var priority = ticket.priority;
      var priorityBox = $("#current-priority");
      priorityBox.textContent = priority ? t("common.priority." + priority) : "–";
      priorityBox.className = priority && priority !== "none" ? "priority-mark" : "";
      $("#current-service").textContent = serviceName(ticket.service_id);
      $("#current-called").textContent = A.formatTime(ticket.called_at, tz, true) || "–";
      $("#current-recalls").textContent =
        ticket.recall_count === undefined ? "–" : String(ticket.recall_count);
    }
    var noShow = state.lastNoShow;
    $("#last-no-show").hidden = !noShow;
    $("#last-no-show-code").textContent = noShow ? noShow.code : "";
  }

  function renderButtons() {
    var ticket = state.current;
    var status = ticket ? ticket.status : null;
    var called = status === "called";
    var held = called || status === "serving";
    var busy = state.busy;
    $("#btn-next").disabled = busy;
    $("#btn-recall").disabled = busy || !called;
    $("#btn-start").disabled = busy || !called;
    $("#btn-no-show").disabled = busy || !called;
    $("#btn-done").disabled = busy || !held;
    renderTransferChoices(held ? ticket : null);
    var select = $("#transfer-service");
    select.disabled = busy || !held;
    $("#btn-transfer").disabled = busy || !held || !select.value;
    $("#btn-requeue").disabled = busy || !state.lastNoShow;
  }

  /* The clinic's other services, transfer-only ones included; the choice survives re-renders. */
  function renderTransferChoices(ticket) {
    var key = ticket ? ticket.id + ":" + ticket.service_id + ":" + state.services.length : "none";
    if (key === state.transferKey) return;
    state.transferKey = key;
    var select = A.clear($("#transfer-service"));
    select.appendChild(A.el("option", { value: "", text: t("staff.transfer_choose") }));
    if (!ticket) return;
    state.services.forEach(function (service) {
      if (service.id === ticket.service_id) return;
      var label = service.name + " (" + service.prefix + ")";
      if (!service.entry) label += " · " + t("staff.transfer_only");
      if (!service.is_open) label += " · " + t("staff.closed");
      select.appendChild(A.el("option", { value: service.id, disabled: !service.is_open, text: label }));
    });
  }

  function renderQueue() {
    var list = A.clear($("#queue"));
    var snapshot = state.snapshot;
    if (!snapshot) { $("#queue-empty").hidden = true; return; }
    var byId = {};
    snapshot.services.forEach(function (queue) { byId[queue.service_id] = queue; });
    var total = 0;
    state.counter.service_ids.forEach(function (serviceId) {
      var queue = byId[serviceId];
      if (!queue) return;
      total += queue.waiting.length;
      var head = A.el("li", { class: "queue-group", "data-service-id": serviceId }, [
        A.el("span", { class: "queue-group-name", text: queue.service_name + " (" + queue.prefix + ")" }),
        A.el("span", { class: "queue-group-count", text: t("staff.waiting_count", { n: queue.waiting.length }) }),
        queue.is_open ? null : A.el("span", { class: "queue-closed", text: t("staff.closed") })
      ]);
      list.appendChild(head);
      queue.waiting.forEach(function (ticket, index) {
        var priority = ticket.priority && ticket.priority !== "none";
        list.appendChild(A.el("li", {
          class: "queue-item" + (priority ? " is-priority" : ""),
          "data-ticket-code": ticket.code,
          "data-ticket-id": ticket.id,
          "data-priority": ticket.priority
        }, [
          A.el("span", { class: "queue-pos", text: String(index + 1) }),
          A.el("span", { class: "queue-code", text: ticket.code }),
          priority ? A.el("span", { class: "priority-mark", text: t("common.priority." + ticket.priority) }) : null
        ]));
      });
    });
    $("#queue-empty").hidden = total > 0;
  }

  /* ---------- wiring ---------- */

  function onKey(event) {
    if ($("#console").hidden || event.ctrlKey || event.altKey || event.metaKey) return;
    var tag = event.target && event.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    var button = { n: "#btn-next", r: "#btn-recall", s: "#btn-start", d: "#btn-done" }[
      (event.key || "").toLowerCase()];
    if (!button) return;
    event.preventDefault();
    var node = $(button);
    if (!node.disabled) node.click();
  }

  $("#login-form").addEventListener("submit", onLoginSubmit);
  $("#btn-logout").addEventListener("click", logout);
  $("#btn-change-counter").addEventListener("click", function () {
    if (state.busy) return;
    chooseCounter();
  });
  $("#btn-change-clinic").addEventListener("click", function () {
    A.store.remove(CLINIC_KEY);
    chooseClinic();
  });
  $("#btn-next").addEventListener("click", function () { act("next"); });
  $("#btn-recall").addEventListener("click", function () { act("recall"); });
  $("#btn-start").addEventListener("click", function () { act("start"); });
  $("#btn-done").addEventListener("click", function () { act("done"); });
  $("#btn-no-show").addEventListener("click", function () { act("no_show"); });
  $("#btn-transfer").addEventListener("click", function () { act("transfer"); });
  $("#btn-requeue").addEventListener("click", function () { act("requeue"); });
  $("#transfer-service").addEventListener("change", renderButtons);
  document.addEventListener("keydown", onKey);

  A.session.restore().then(function (session) {
    if (session) afterLogin(session); else showLogin();
  }, function (error) {
    showLogin(A.errorText(error));
  });
})();
