/* Staff console (/staff): log in, choose a counter, call and serve the queue, live.
   Plain ES2015, no build step (see common.js). */
(function () {
  "use strict";

  var A = window.Antrean;
  var t = A.t;
  var $ = A.$;

  var CLINIC_KEY = "antrean.staff.clinic"; // an admin's chosen clinic (admins have none of their own)
  var COUNTER_KEY = "antrean.staff.counter"; // {clinic_id, counter_id}: this PC's counter
  // {clinic_id, counter_id, user_id, ticket}: the last no-show, for Requeue. Only the same user at
  // the same counter on the same clinic day gets it back, and only while the ticket is still a
  // no-show (read again from the server before it is shown).
  var NO_SHOW_KEY = "antrean.staff.no_show";
  var DIRECTORY_RETRY_MS = 5000;
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
    noShowToCheck: null, // a remembered no-show not shown until the server says it still is one
    today: null, // the clinic's local date, as the server's queue snapshot says
    busy: false,
    feed: null,
    feedClinicId: null,
    version: 0, // rises with every action, so a queue read begun before it is not shown
    refreshTimer: null,
    refreshing: false,
    refreshAgain: false,
    transferKey: null,
    directoryGeneration: 0, // rises with every directory read, so only the newest is applied
    directoryRetryTimer: null
  };

  // For tests and for a look from the browser's console: the live feed and the page's state.
  window.AntreanStaff = {
    get feed() { return state.feed; },
    state: state
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

  /* In the console's words, by the error's code (staff.code.*: illegal_transition when another
     PC acted first, same_service, service_closed...), see A.errorText. */
  function errorMessage(error) {
    return A.errorText(error, "staff");
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
    state.directoryGeneration += 1; // a directory read still on its way is of no use now
    state.session = null;
    state.counter = null;
    state.lastNoShow = null;
    state.noShowToCheck = null;
    $("#userbar").hidden = true;
    showOnly("login-section");
    A.loginForm.show(message);
    $("#login-username").focus();
  }

  function sessionEnded() {
    A.session.clear();
    showLogin(t("common.session_expired"));
  }

  function logout() {
    A.session.clear();
    forgetNoShow();
    showLogin();
  }

  function afterLogin(session) {
    if (!A.loginForm.accept(session, "staff")) {
      showLogin(t("staff.not_staff"));
      return;
    }
    state.session = session;
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
    state.directoryGeneration += 1;
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

  /* Read the clinic, its services and its counters. Resolves true when applied, false when a
     newer read (or a change of clinic or user) made this one stale. */
  function loadDirectory(clinicId) {
    state.directoryGeneration += 1;
    var generation = state.directoryGeneration;
    return Promise.all([
      call("GET", "/clinics/" + clinicId),
      call("GET", "/clinics/" + clinicId + "/services"),
      call("GET", "/clinics/" + clinicId + "/counters")
    ]).then(function (results) {
      if (generation !== state.directoryGeneration) return false;
      state.clinic = results[0].data;
      state.services = results[1].data;
      state.counters = results[2].data;
      return true;
    });
  }

  /* Setup changes (`clinic.changed`) carry no seq, so a reconnect's replay never brings them:
     read the directory again whenever the feed (re)opens or says the setup changed. */
  function reloadDirectory() {
    clearTimeout(state.directoryRetryTimer);
    if (!state.clinic || !state.feed) return;
    var feed = state.feed;
    loadDirectory(state.clinic.id).then(function (applied) {
      if (!applied || state.feed !== feed) return;
      if ($("#counter-section").hidden === false) { chooseCounter(); return; }
      if (!state.counter) return;
      var counter = counterById(state.counter.id);
      if (!counter) { chooseCounter(); return; } // this counter is gone
      state.counter = counter;
      showCounterInfo();
      state.transferKey = null; // names, open/closed and the list itself may have changed
      render();
    }, function (error) {
      if (error.status === 401 || state.feed !== feed) return;
      clearTimeout(state.directoryRetryTimer);
      state.directoryRetryTimer = setTimeout(function () {
        if (state.feed === feed) reloadDirectory();
      }, DIRECTORY_RETRY_MS);
    });
  }

  function openClinic(clinicId) {
    showOnly("staff-loading");
    loadDirectory(clinicId).then(function (applied) {
      if (!applied) return;
      var stored = A.store.get(COUNTER_KEY);
      var counter = null;
      if (stored && stored.clinic_id === state.clinic.id) counter = counterById(stored.counter_id);
      if (counter) openConsole(counter); else chooseCounter();
    }, function (error) {
      if (error.status === 404 && !state.session.me.clinic_id) { // clinic_not_found
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
      state.lastNoShow = null;
      // Shown only once the server says it is still a no-show of today (see refreshNow).
      state.noShowToCheck = storedNoShow(counter);
    }
    state.counter = counter;
    A.store.set(COUNTER_KEY, { clinic_id: state.clinic.id, counter_id: counter.id });
    $("#btn-change-counter").hidden = false;
    showCounterInfo();
    setMessage("");
    showOnly("console");
    startFeed();
    render();
    refreshNow();
  }

  function showCounterInfo() {
    var counter = state.counter;
    $("#userbar-place").textContent = state.clinic.name + " · " + counter.name;
    $("#console-counter").textContent = counter.name;
    $("#console-services").textContent = counterServiceNames(counter);
  }

  function startFeed() {
    if (state.feed && state.feedClinicId === state.clinic.id) return;
    stopFeed();
    state.feedClinicId = state.clinic.id;
    state.feed = new A.Feed("/ws/clinics/" + state.clinic.id, {
      onMessage: onFeedMessage,
      // On every (re)connect: the replay brings missed ticket events, not setup changes.
      onOpen: function () { reloadDirectory(); scheduleRefresh(); }
    }, { trackSeq: true });
  }

  /* The old clinic's feed ends for good (Feed.stop also takes its offline marker down). */
  function stopFeed() {
    if (state.feed) state.feed.stop();
    state.feed = null;
    state.feedClinicId = null;
    clearTimeout(state.refreshTimer);
    clearTimeout(state.directoryRetryTimer);
  }

  function onFeedMessage(message) {
    if (message.type === "clinic.changed") {
      // Services or counters changed: names, transfer targets and the counter's services.
      reloadDirectory();
      scheduleRefresh();
      return;
    }
    // News of the last no-show (another PC put it back in the queue, or the day ended): read it
    // again with the refresh below. Not dropped at once: the news may be older than the no-show.
    var ticket = message.ticket;
    if (ticket && state.lastNoShow && ticket.id === state.lastNoShow.id && ticket.status !== "no_show" &&
        !state.noShowToCheck) {
      state.noShowToCheck = state.lastNoShow;
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
    var toCheck = state.noShowToCheck;
    call("GET", "/clinics/" + state.clinic.id + "/queue").then(function (result) {
      var snapshot = result.data;
      var held = heldBy(snapshot, counterId);
      var heldRead = !held ? null : call("GET", "/tickets/" + held.id).then(function (ticket) {
        return ticket.data;
      }, function (error) {
        if (error.status === 401) throw error;
        // The snapshot's view is enough to act on; priority and recalls stay unknown.
        return held;
      });
      var noShowRead = !toCheck ? null : call("GET", "/tickets/" + toCheck.id).then(function (ticket) {
        return ticket.data;
      }, function (error) {
        if (error.status === 401) throw error;
        // Gone or not ours: forget it. Unreachable: ask again with the next read.
        return error.status === 404 || error.status === 403 ? { id: toCheck.id, status: null } : undefined;
      });
      return Promise.all([heldRead, noShowRead]).then(function (tickets) {
        return { snapshot: snapshot, ticket: tickets[0], noShow: tickets[1] };
      });
    }).then(function (read) {
      if (state.version !== version) { state.refreshAgain = true; return; }
      if (!state.counter || state.counter.id !== counterId) return;
      state.snapshot = read.snapshot;
      state.today = read.snapshot.visit_date;
      state.current = read.ticket;
      if (toCheck && state.noShowToCheck === toCheck && read.noShow !== undefined) {
        state.noShowToCheck = null;
        var still = read.noShow.status === "no_show" && read.noShow.visit_date === state.today &&
          toCheck.visit_date === state.today;
        if (still) state.lastNoShow = read.noShow; else rememberNoShow(null);
      }
      if (state.lastNoShow && state.lastNoShow.visit_date !== state.today) {
        rememberNoShow(null); // yesterday's no-show has expired: nothing to requeue
      }
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
      if (kind === "requeue" && (error.code === "illegal_transition" || error.code === "ticket_not_found")) {
        rememberNoShow(null);
      }
    }).then(function () {
      setBusy(false);
      if (state.counter) scheduleRefresh();
    });
  }

  function rememberNoShow(ticket) {
    state.lastNoShow = ticket;
    state.noShowToCheck = null;
    if (ticket && state.counter && state.session) {
      A.store.set(NO_SHOW_KEY, {
        clinic_id: state.clinic.id,
        counter_id: state.counter.id,
        user_id: state.session.me.id,
        ticket: ticket
      });
    } else {
      A.store.remove(NO_SHOW_KEY);
    }
  }

  function forgetNoShow() {
    state.lastNoShow = null;
    state.noShowToCheck = null;
    A.store.remove(NO_SHOW_KEY);
  }

  /* The no-show this user left at this counter, if any (another user's is dropped). */
  function storedNoShow(counter) {
    var stored = A.store.get(NO_SHOW_KEY);
    if (!stored || !stored.ticket) return null;
    if (stored.user_id !== state.session.me.id || stored.clinic_id !== state.clinic.id) {
      A.store.remove(NO_SHOW_KEY);
      return null;
    }
    return stored.counter_id === counter.id ? stored.ticket : null;
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

  A.loginForm.bind(afterLogin);
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
    showLogin(A.errorText(error, "staff"));
  });
})();
