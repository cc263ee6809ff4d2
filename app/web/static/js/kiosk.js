/* The kiosk at the clinic's entrance: a patient picks a priority (optional) and a service, gets
   a number on screen and a printed ticket. Plain ES2015, no build step. */
(function () {
  "use strict";

  var A = window.Antrean;
  var boot = A.boot;
  var clinic = boot.clinic;

  var KEY_STORE = "antrean.kiosk.key." + clinic.id;
  var PAPER_STORE = "antrean.kiosk.paper";
  var PAPERS = ["58", "80"];
  var CONFIRM_MS = 10000; // the ticket stays on screen this long
  var REFRESH_MS = 30000; // services are re-read this often even without feed events
  var PROBE_MS = 3000; // while offline, the server is tried this often
  var DEBOUNCE_MS = 400; // feed events in a burst cause one re-read
  var PRIORITY_IDLE_MS = 45000; // a chosen priority nobody used goes back to Umum
  var ERROR_MS = 8000; // a refusal message stays this long
  var HOLD_MS = 2000; // holding the discreet control this long opens the settings
  var PRINT_KEEP_MS = 60000; // then the printed ticket's frame (its address holds the token) goes
  var PRINT_LOAD_MS = 8000; // a print page not there by then has failed to print
  var CONFIRM_UNPRINTED_MS = 45000; // a ticket that did not print stays on screen this long

  var taking = new A.TicketTaking(clinic.id); // never two tickets for one tap
  var state = {
    key: null,
    device: null,
    started: false,
    services: [],
    loaded: false,
    priority: "none",
    offline: false,
    busy: false,
    loading: false,
    reloadAfter: false
  };
  var timers = {
    refresh: null, probe: null, debounce: null, confirm: null, failed: null,
    priority: null, hold: null
  };
  var tiles = {}; // service id -> tile button

  var $ = A.$;

  /* ---- paper width: ?paper= on the kiosk URL (remembered), else the remembered one, else 58 ---- */
  if (boot.paper && PAPERS.indexOf(boot.paper) >= 0) A.store.set(PAPER_STORE, boot.paper);
  function paperWidth() {
    var stored = A.store.get(PAPER_STORE);
    return PAPERS.indexOf(stored) >= 0 ? stored : "58";
  }

  /* ---- clock ---- */
  function tick() {
    $("#kiosk-clock").textContent = A.formatTime(new Date().toISOString(), clinic.timezone);
  }
  tick();
  setInterval(tick, 5000);

  /* ---- the device key ---- */
  function keyError(messageKey) {
    var error = new Error(messageKey);
    error.keyMessage = messageKey;
    return error;
  }

  /* Resolves the device behind key if it is a kiosk of this clinic; rejects with .keyMessage
     when it is not, or like A.api when the server cannot be reached. */
  function checkKey(key) {
    return A.api("GET", "/auth/me", { token: key, timeout: 8000 }).then(function (result) {
      var me = result.data;
      if (me.kind !== "device" || me.device_kind !== "kiosk") throw keyError("kiosk.key_not_kiosk");
      if (me.clinic_id !== clinic.id) throw keyError("kiosk.key_other_clinic");
      return me;
    }, function (error) {
      // invalid_credentials (an unknown or revoked key), or not_authenticated
      if (error.status === 401) throw keyError("kiosk.key_wrong");
      throw error;
    });
  }

  function showSetup(message) {
    $("#kiosk-main").hidden = true;
    $("#kiosk-setup").hidden = false;
    var errorBox = $("#kiosk-key-error");
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
    $("#kiosk-key-input").focus();
  }

  $("#kiosk-key-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("#kiosk-key-input");
    var button = $("#kiosk-key-submit");
    var errorBox = $("#kiosk-key-error");
    var key = input.value.trim();
    if (!key) {
      errorBox.textContent = A.t("kiosk.key_empty");
      errorBox.hidden = false;
      return;
    }
    button.disabled = true;
    errorBox.textContent = A.t("kiosk.key_checking");
    errorBox.hidden = false;
    checkKey(key).then(function (me) {
      button.disabled = false;
      A.store.set(KEY_STORE, key);
      input.value = "";
      errorBox.hidden = true;
      start(key, me);
    }, function (error) {
      button.disabled = false;
      errorBox.textContent = error.keyMessage ? A.t(error.keyMessage) : A.errorText(error, "kiosk");
      errorBox.hidden = false;
    });
  });

  function forgetKey() {
    A.store.remove(KEY_STORE);
  }

  /* ---- services ---- */
  function takeable(service) {
    return service.is_open && !A.quotaFull(service);
  }
  function findService(id) {
    for (var i = 0; i < state.services.length; i++) {
      if (state.services[i].id === id) return state.services[i];
    }
    return null;
  }

  function loadServices() {
    if (state.loading) { state.reloadAfter = true; return; }
    state.loading = true;
    A.api("GET", "/clinics/" + clinic.id + "/services", { timeout: 8000 }).then(function (result) {
      state.loading = false;
      state.services = result.data;
      state.loaded = true;
      setOffline(false);
      renderServices();
      if (state.reloadAfter) { state.reloadAfter = false; loadServices(); }
    }, function (error) {
      state.loading = false;
      state.reloadAfter = false;
      if (error.offline) setOffline(true);
    });
  }

  function scheduleRefresh() {
    clearTimeout(timers.debounce);
    timers.debounce = setTimeout(loadServices, DEBOUNCE_MS);
  }

  function tileFor(service) {
    var tile = tiles[service.id];
    if (tile) return tile;
    tile = A.el("button", { type: "button", class: "tile", "data-service-id": service.id }, [
      A.el("span", { class: "tile-top" }, [
        A.el("span", { class: "tile-prefix" }),
        A.el("span", { class: "tile-name" })
      ]),
      A.el("span", { class: "tile-stats" }, [
        A.el("span", { class: "tile-waiting" }),
        A.el("span", { class: "tile-estimate" })
      ]),
      A.el("span", { class: "tile-state" })
    ]);
    tile.addEventListener("click", function () { take(service.id); });
    tiles[service.id] = tile;
    return tile;
  }

  function renderServices() {
    var box = $("#kiosk-services");
    if (!state.loaded) return;
    var shown = state.services.filter(function (s) { return s.entry; });
    var keep = {};
    A.$$(".kiosk-loading", box).forEach(function (node) { box.removeChild(node); });
    shown.forEach(function (service) {
      var tile = tileFor(service);
      keep[service.id] = true;
      var closed = !service.is_open;
      var full = !closed && A.quotaFull(service);
      $(".tile-prefix", tile).textContent = service.prefix;
      $(".tile-name", tile).textContent = service.name;
      $(".tile-waiting", tile).textContent = service.waiting > 0
        ? A.t("kiosk.waiting", { n: service.waiting }) : A.t("kiosk.waiting_none");
      var estimate = $(".tile-estimate", tile);
      estimate.textContent = service.estimated_wait_minutes > 0
        ? A.t("kiosk.est_wait", { n: service.estimated_wait_minutes }) : A.t("kiosk.est_wait_none");
      estimate.hidden = closed || full;
      var label = $(".tile-state", tile);
      label.textContent = closed ? A.t("kiosk.closed") : full ? A.t("kiosk.quota_full") : "";
      label.hidden = !(closed || full);
      tile.classList.toggle("is-closed", closed);
      tile.classList.toggle("is-quota-full", full);
      tile.disabled = closed || full || state.offline || state.busy;
      tile.setAttribute("aria-label", service.name + (closed || full ? ", " + label.textContent : ""));
      box.appendChild(tile); // in the order of the list
    });
    Object.keys(tiles).forEach(function (id) {
      if (!keep[id]) {
        if (tiles[id].parentNode) tiles[id].parentNode.removeChild(tiles[id]);
        delete tiles[id];
      }
    });
    $("#kiosk-empty").hidden = shown.length > 0;
  }

  /* ---- offline: a banner, and no taps until the server answers again ---- */
  function setOffline(offline) {
    if (state.offline === offline) return;
    state.offline = offline;
    $("#kiosk-offline").hidden = !offline;
    A.setOffline("kiosk", offline);
    clearInterval(timers.probe);
    if (offline) timers.probe = setInterval(loadServices, PROBE_MS);
    renderServices();
  }

  /* ---- priority choice ---- */
  function setPriority(priority) {
    state.priority = priority;
    A.$$(".priority-button").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-priority") === priority ? "true" : "false");
    });
    clearTimeout(timers.priority);
    if (priority !== "none") timers.priority = setTimeout(function () { setPriority("none"); }, PRIORITY_IDLE_MS);
  }
  A.$$(".priority-button").forEach(function (button) {
    button.addEventListener("click", function () { setPriority(button.getAttribute("data-priority")); });
  });

  /* ---- taking a ticket ---- */
  function take(serviceId) {
    if (state.busy || state.offline) return;
    var service = findService(serviceId);
    if (!service || !takeable(service)) return;
    // The same tap again shortly after its answer was lost: the same key, so never two tickets.
    send(taking.attemptFor(serviceId, state.priority));
  }

  function setBusy(busy) {
    state.busy = busy;
    $("#kiosk-busy").hidden = !busy;
    renderServices();
  }

  function send(attempt) {
    hideFailed();
    setBusy(true);
    taking.send(attempt, { token: state.key, timeout: 10000 }).then(function (ticket) {
      setBusy(false);
      setOffline(false);
      var url = printUrl(ticket);
      showTicket(ticket, url);
      printTicket(ticket, url);
      setPriority("none");
      scheduleRefresh();
    }, function (error) {
      setBusy(false);
      if (error.offline) {
        setOffline(true);
        showFailed(A.t("kiosk.failed_offline"), true);
        return;
      }
      if (error.mayHaveMade) {
        // The ticket may well have been made: "Coba lagi" or the same tile sends the same key.
        showFailed(A.t("kiosk.failed_server"), true);
        return;
      }
      // The key no longer works here (401: revoked; 403: device_not_allowed, other_clinic...):
      // back to the key form, which says why.
      if (error.status === 401 || error.status === 403) {
        forgetKey();
        location.reload();
        return;
      }
      showFailed(reasonFor(error, findService(attempt.serviceId)), false);
      loadServices();
    });
  }

  /* The refusal in the kiosk's words, by its code (kiosk.code.*: quota_full, service_closed,
     transfer_only_service, rate_limited with its Retry-After...), see A.errorText. */
  function reasonFor(error, service) {
    return A.errorText(error, "kiosk", { service: service ? service.name : "" });
  }

  function showFailed(text, canRetry) {
    $("#kiosk-failed-text").textContent = text;
    $("#kiosk-retry").hidden = !canRetry;
    $("#kiosk-failed").hidden = false;
    clearTimeout(timers.failed);
    timers.failed = setTimeout(hideFailed, canRetry ? 3 * ERROR_MS : ERROR_MS);
  }
  function hideFailed() {
    clearTimeout(timers.failed);
    $("#kiosk-failed").hidden = true;
  }
  $("#kiosk-retry").addEventListener("click", function () {
    if (taking.pending && !state.busy) send(taking.pending);
  });
  $("#kiosk-failed-close").addEventListener("click", hideFailed);

  var shown = null; // {ticket, url}: the ticket on the confirmation screen, for "Cetak ulang"

  function showTicket(ticket, url) {
    var service = findService(ticket.service_id);
    shown = { ticket: ticket, url: url };
    $("#kiosk-ticket-code").textContent = ticket.code;
    $("#kiosk-ticket-service").textContent = service ? service.name : "";
    var priority = $("#kiosk-ticket-priority");
    priority.textContent = A.t("common.priority." + ticket.priority);
    priority.hidden = ticket.priority === "none";
    var ahead = ticket.position;
    $("#kiosk-ticket-ahead").textContent = ahead === null || ahead === undefined ? "–"
      : ahead === 0 ? A.t("kiosk.ahead_none") : A.t("kiosk.ahead_count", { n: ahead });
    var wait = ticket.estimated_wait_minutes;
    $("#kiosk-ticket-wait").textContent = wait === null || wait === undefined ? "–"
      : wait === 0 ? A.t("kiosk.wait_none") : A.t("kiosk.wait_minutes", { n: wait });
    setPrintFailed(false);
    $("#kiosk-confirm").hidden = false;
    holdTicket(CONFIRM_MS);
  }
  function holdTicket(ms) {
    clearTimeout(timers.confirm);
    timers.confirm = setTimeout(hideTicket, ms);
  }
  function hideTicket() {
    clearTimeout(timers.confirm);
    $("#kiosk-confirm").hidden = true;
    shown = null;
  }
  function setPrintFailed(failed) {
    var box = A.clear($("#kiosk-print-failed"));
    if (failed && shown) {
      // The number is kept whole on one line (never "A-" above "012").
      var marker = "\u0001";
      var parts = A.t("kiosk.print_failed", { code: marker }).split(marker);
      parts.forEach(function (part, i) {
        if (i > 0) box.appendChild(A.el("strong", { class: "kiosk-print-code", text: shown.ticket.code }));
        if (part) box.appendChild(document.createTextNode(part));
      });
    }
    box.hidden = !failed;
    $("#kiosk-ticket-note").hidden = failed;
  }
  $("#kiosk-confirm-close").addEventListener("click", hideTicket);
  $("#kiosk-reprint").addEventListener("click", function () {
    if (!shown || (printing && !printing.done)) return;
    setPrintFailed(false);
    holdTicket(CONFIRM_MS);
    printTicket(shown.ticket, shown.url);
  });

  function printUrl(ticket) {
    return "/t/" + ticket.id + "/print?token=" + encodeURIComponent(ticket.token) +
      "&paper=" + paperWidth() + "&autoprint=1";
  }

  /* The print page prints itself on load (autoprint=1); Chromium started with --kiosk-printing
     sends it to the default printer without a dialog. Each print gets a new frame, removed
     after a minute: navigating one kept frame would add an entry per ticket to the kiosk's
     history, and the system Back button would then reprint earlier patients' tickets (their QR
     code lets anyone holding it cancel the ticket). */
  var printing = null; // {ticket, url, frame, done, ok, retired, deadline, keep}: the latest print

  function printTicket(ticket, url) {
    if (printing) retire(printing);
    var frame = A.el("iframe", {
      id: "print-frame", class: "print-frame", src: url,
      title: A.t("kiosk.print_frame"), "aria-hidden": "true", tabindex: "-1"
    });
    var job = { ticket: ticket, url: url, frame: frame, done: false, ok: false, retired: false };
    frame.addEventListener("load", function () {
      var found = slipState(frame);
      if (found === "blank") return; // the frame's initial empty document, not the print page
      finish(job, found === "slip");
    });
    job.deadline = setTimeout(function () {
      // Still not there: the page did not come. (A slip already shown is printing.)
      finish(job, slipState(frame) === "slip");
    }, PRINT_LOAD_MS);
    job.keep = setTimeout(function () { remove(job); }, PRINT_KEEP_MS);
    printing = job;
    $(".kiosk").appendChild(frame);
    renderReprint();
  }

  /* "slip": the print page is there; "blank": nothing loaded yet; "other": the not-found page,
     or a browser error page (which this page cannot look into). */
  function slipState(frame) {
    try {
      var doc = frame.contentDocument;
      if (!doc) return "other";
      if (String(frame.contentWindow.location.href) === "about:blank") return "blank";
      return doc.getElementById("slip-code") ? "slip" : "other";
    } catch (e) {
      return "other";
    }
  }

  function finish(job, ok) {
    if (job.done && !(ok && !job.ok)) return; // a late slip after a timeout is still good news
    var first = !job.done;
    job.done = true;
    job.ok = ok;
    clearTimeout(job.deadline);
    if (job.retired) { remove(job); return; }
    if (job === printing) {
      if (!ok && first) printFailed(job);
      else if (ok && !first && shown && shown.ticket.id === job.ticket.id) setPrintFailed(false);
    }
    renderReprint();
  }

  /* The ticket did not print: the number stays on screen, longer, with a plain request to note
     it down, even if the patient had already closed the confirmation. */
  function printFailed(job) {
    if (!shown || shown.ticket.id !== job.ticket.id) showTicket(job.ticket, job.url);
    setPrintFailed(true);
    holdTicket(CONFIRM_UNPRINTED_MS);
  }

  /* A newer print replaces this one: its frame goes once it has printed. */
  function retire(job) {
    job.retired = true;
    job.frame.removeAttribute("id");
    if (job.done) remove(job);
  }

  /* The token belongs to the patient: the shared kiosk keeps no frame that holds it. */
  function remove(job) {
    clearTimeout(job.deadline);
    clearTimeout(job.keep);
    if (job.frame.parentNode) job.frame.parentNode.removeChild(job.frame);
    if (printing === job) printing = null;
    renderReprint();
  }

  function renderReprint() {
    $("#kiosk-reprint").disabled = !!(printing && !printing.done);
  }

  /* ---- settings, behind a discreet control held for 2 s ---- */
  function openSettings() {
    $("#kiosk-device-name").textContent = state.device ? A.t("kiosk.device", { name: state.device.name }) : "";
    renderPaper();
    $("#kiosk-reset-step").hidden = false;
    $("#kiosk-reset-confirm").hidden = true;
    $("#kiosk-settings").hidden = false;
  }
  function renderPaper() {
    var paper = paperWidth();
    A.$$("[data-paper]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-paper") === paper ? "true" : "false");
    });
  }
  A.$$("[data-paper]").forEach(function (button) {
    button.addEventListener("click", function () {
      A.store.set(PAPER_STORE, button.getAttribute("data-paper"));
      renderPaper();
    });
  });
  $("#kiosk-settings-close").addEventListener("click", function () { $("#kiosk-settings").hidden = true; });
  $("#kiosk-reset-key").addEventListener("click", function () {
    $("#kiosk-reset-step").hidden = true;
    $("#kiosk-reset-confirm").hidden = false;
  });
  $("#kiosk-reset-no").addEventListener("click", function () {
    $("#kiosk-reset-step").hidden = false;
    $("#kiosk-reset-confirm").hidden = true;
  });
  $("#kiosk-reset-yes").addEventListener("click", function () {
    forgetKey();
    location.reload();
  });

  var holder = $("#kiosk-settings-open");
  function holdStart(event) {
    if (event.type === "touchstart") event.preventDefault();
    clearTimeout(timers.hold);
    timers.hold = setTimeout(openSettings, HOLD_MS);
  }
  function holdEnd() { clearTimeout(timers.hold); }
  ["mousedown", "touchstart"].forEach(function (name) { holder.addEventListener(name, holdStart); });
  ["mouseup", "mouseleave", "touchend", "touchcancel"].forEach(function (name) {
    holder.addEventListener(name, holdEnd);
  });
  holder.addEventListener("contextmenu", function (event) { event.preventDefault(); });

  /* ---- start ---- */
  function start(key, device) {
    state.key = key;
    state.device = device;
    $("#kiosk-setup").hidden = true;
    $("#kiosk-main").hidden = false;
    if (state.started) return;
    state.started = true;
    loadServices();
    timers.refresh = setInterval(loadServices, REFRESH_MS);
    // Every change at the clinic (a ticket taken anywhere, a call, a service closed) moves the
    // counts: re-read them. A closed feed may mean the server is gone: find out at once.
    new A.Feed("/ws/clinics/" + clinic.id, {
      onMessage: scheduleRefresh,
      onClose: loadServices
    });
  }

  var stored = A.store.get(KEY_STORE);
  if (!stored) {
    showSetup("");
  } else {
    checkKey(stored).then(function (me) {
      start(stored, me);
    }, function (error) {
      if (error.keyMessage) {
        forgetKey();
        showSetup(A.t(error.keyMessage === "kiosk.key_wrong" ? "kiosk.key_revoked" : error.keyMessage));
        return;
      }
      // The server cannot be reached: keep the key and wait for it (the banner says so).
      start(stored, null);
      setOffline(true);
    });
  }
})();
