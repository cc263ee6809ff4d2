/* Taking a ticket from a phone before leaving home (where the clinic allows it). The ticket's
   address is remembered, so reopening this page leads back to it. Plain ES2015. */
(function () {
  "use strict";

  var A = window.Antrean;
  var boot = A.boot;
  var clinic = boot.clinic;
  var $ = A.$;

  var MINE_STORE = "antrean.take." + clinic.id;
  var REFRESH_MS = 30000;
  var GONE = ["cancelled", "expired"];

  var taking = new A.TicketTaking(clinic.id); // never two tickets for one tap
  var state = { services: [], loaded: false, priority: "none", busy: false };
  var tiles = {};

  /* ---- today's ticket, remembered ---- */
  function today() {
    try {
      var text = new Date().toLocaleDateString("en-CA", { timeZone: clinic.timezone });
      return /^\d{4}-\d{2}-\d{2}$/.test(text) ? text : null;
    } catch (e) {
      return null;
    }
  }
  function ticketUrl(mine) {
    return "/t/" + mine.id + "?token=" + encodeURIComponent(mine.token);
  }
  function isToday(mine) {
    var day = today();
    if (day && mine.visit_date) return mine.visit_date === day;
    return Date.now() - (mine.taken_at || 0) < 16 * 3600 * 1000;
  }
  function showMine() {
    var mine = A.store.get(MINE_STORE);
    var link = $("#take-mine");
    if (!mine || !mine.id || !mine.token || !isToday(mine)) {
      if (mine) A.store.remove(MINE_STORE);
      link.hidden = true;
      return;
    }
    link.href = ticketUrl(mine);
    $("#take-mine-code").textContent = A.t("take.open_ticket", { code: mine.code });
    link.hidden = false;
    // A ticket that is cancelled or expired is no longer "your ticket today".
    A.api("GET", "/tickets/" + mine.id, { headers: { "X-Ticket-Token": mine.token } }).then(function (result) {
      var ticket = result.data;
      if (GONE.indexOf(ticket.status) >= 0) {
        A.store.remove(MINE_STORE);
        link.hidden = true;
        return;
      }
      $("#take-mine-code").textContent = A.t("take.open_ticket", { code: ticket.code }) +
        " · " + A.t("common.status." + ticket.status);
    }, function (error) {
      // invalid_ticket_token or ticket_not_found (401, 404): not this phone's ticket any more.
      if (error.status === 401 || error.status === 404) {
        A.store.remove(MINE_STORE);
        link.hidden = true;
      }
    });
  }

  /* ---- services ---- */
  function findService(id) {
    for (var i = 0; i < state.services.length; i++) {
      if (state.services[i].id === id) return state.services[i];
    }
    return null;
  }

  function loadServices() {
    A.api("GET", "/clinics/" + clinic.id + "/services").then(function (result) {
      state.services = result.data;
      state.loaded = true;
      renderServices();
    }, function (error) {
      if (!state.loaded) showError(A.errorText(error, "take"));
    });
  }

  function tileFor(service) {
    var tile = tiles[service.id];
    if (tile) return tile;
    tile = A.el("button", { type: "button", class: "take-tile", "data-service-id": service.id }, [
      A.el("span", { class: "take-tile-prefix" }),
      A.el("span", { class: "take-tile-body" }, [
        A.el("span", { class: "take-tile-name" }),
        A.el("span", { class: "take-tile-stats" }),
        A.el("span", { class: "take-tile-state" })
      ])
    ]);
    tile.addEventListener("click", function () { take(service.id); });
    tiles[service.id] = tile;
    return tile;
  }

  function renderServices() {
    if (!state.loaded) return;
    var box = $("#take-services");
    A.$$(".take-loading", box).forEach(function (node) { box.removeChild(node); });
    var shown = state.services.filter(function (s) { return s.entry; });
    var keep = {};
    shown.forEach(function (service) {
      var tile = tileFor(service);
      keep[service.id] = true;
      var closed = !service.is_open;
      var full = !closed && A.quotaFull(service);
      $(".take-tile-prefix", tile).textContent = service.prefix;
      $(".take-tile-name", tile).textContent = service.name;
      var waiting = service.waiting > 0 ? A.t("take.waiting", { n: service.waiting }) : A.t("take.waiting_none");
      var estimate = service.estimated_wait_minutes > 0
        ? A.t("take.est_wait", { n: service.estimated_wait_minutes }) : A.t("take.est_wait_none");
      $(".take-tile-stats", tile).textContent = closed || full ? waiting : waiting + " · " + estimate;
      var label = $(".take-tile-state", tile);
      label.textContent = closed ? A.t("take.closed") : full ? A.t("take.quota_full") : "";
      label.hidden = !(closed || full);
      tile.classList.toggle("is-closed", closed);
      tile.classList.toggle("is-quota-full", full);
      tile.disabled = closed || full || state.busy;
      box.appendChild(tile);
    });
    Object.keys(tiles).forEach(function (id) {
      if (!keep[id]) {
        if (tiles[id].parentNode) tiles[id].parentNode.removeChild(tiles[id]);
        delete tiles[id];
      }
    });
    $("#take-empty").hidden = shown.length > 0;
  }

  /* ---- priority ---- */
  function setPriority(priority) {
    state.priority = priority;
    A.$$(".priority-button").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-priority") === priority ? "true" : "false");
    });
  }
  A.$$(".priority-button").forEach(function (button) {
    button.addEventListener("click", function () { setPriority(button.getAttribute("data-priority")); });
  });

  /* ---- taking one ---- */
  function showError(text) {
    var box = $("#take-error");
    box.textContent = text || "";
    box.hidden = !text;
    if (text && box.scrollIntoView) box.scrollIntoView({ block: "center" });
  }

  function setBusy(busy) {
    state.busy = busy;
    $("#take-busy").hidden = !busy;
    renderServices();
  }

  function take(serviceId) {
    if (state.busy) return;
    var service = findService(serviceId);
    if (!service) return;
    // Tapping again after the answer was lost: the same key, so the server never makes two.
    var attempt = taking.attemptFor(serviceId, state.priority);
    showError("");
    setBusy(true);
    taking.send(attempt, { timeout: 15000 }).then(function (ticket) {
      A.store.set(MINE_STORE, {
        id: ticket.id,
        token: ticket.token,
        code: ticket.code,
        visit_date: ticket.visit_date,
        taken_at: Date.now()
      });
      location.href = ticketUrl(ticket);
    }, function (error) {
      setBusy(false);
      if (error.offline) {
        showError(A.t("take.err_offline"));
        return;
      }
      if (error.mayHaveMade) {
        // The ticket may have been made already: touching the service again sends the same key.
        showError(A.t("take.err_server"));
        return;
      }
      showError(reasonFor(error, service));
      loadServices();
    });
  }

  /* The refusal in this page's words, by its code (take.code.*: remote_tickets_off, quota_full,
     service_closed, rate_limited with its Retry-After...), see A.errorText. A phone holds no
     account, so any 403 here (forbidden, from a server older than remote_tickets_off) means
     the clinic takes no tickets by phone. */
  function reasonFor(error, service) {
    return A.errorText(error, "take", { service: service ? service.name : "" });
  }

  // Back from the ticket page (kept in the page cache): not busy any more.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      setBusy(false);
      showMine();
    }
  });

  showMine();
  loadServices();
  setInterval(loadServices, REFRESH_MS);
})();
