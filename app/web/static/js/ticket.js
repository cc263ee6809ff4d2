/* The patient's phone page: the ticket live over its own feed, the counter when called, and a
   cancel button while waiting. Plain ES2015, no build step. */
(function () {
  "use strict";

  var A = window.Antrean;
  var boot = A.boot;
  var clinic = boot.clinic;
  var ticketId = boot.ticket.id;
  var token = boot.ticket.token;
  var HEADERS = { "X-Ticket-Token": token };
  var FINAL = ["done", "cancelled", "expired", "no_show"];
  var HELD = ["called", "serving"];
  var $ = A.$;

  var counters = {}; // counter id -> name
  var services = {}; // service id -> name
  var current = null; // the ticket as last shown
  var heardFromFeed = false;
  var countersAskedFor = {};

  function has(list, value) { return list.indexOf(value) >= 0; }

  /* ---- names of counters and services (the ticket carries ids) ---- */
  function loadCounters() {
    return A.api("GET", "/clinics/" + clinic.id + "/counters").then(function (result) {
      result.data.forEach(function (counter) { counters[counter.id] = counter.name; });
      if (current) render(current);
    }, function () { /* shown without the name until the next try */ });
  }
  function loadServices() {
    return A.api("GET", "/clinics/" + clinic.id + "/services").then(function (result) {
      result.data.forEach(function (service) { services[service.id] = service.name; });
      if (current) render(current);
    }, function () { /* shown without the name until the next try */ });
  }

  /* ---- showing the ticket ---- */
  function setText(selector, text) { $(selector).textContent = text; }

  function render(ticket) {
    var previous = current;
    current = ticket;
    var status = ticket.status;
    var statusText = A.t("common.status." + status);

    setText("#ticket-code", ticket.code);
    setText("#ticket-service", services[ticket.service_id] || "");
    if (!services[ticket.service_id] && previous && previous.service_id !== ticket.service_id) {
      loadServices(); // transferred to a service not known yet
    }
    var priority = $("#ticket-priority");
    priority.textContent = A.t("ticket.priority", { priority: A.t("common.priority." + ticket.priority) });
    priority.hidden = ticket.priority === "none";

    var statusBox = $("#ticket-status");
    statusBox.textContent = statusText;
    statusBox.setAttribute("data-status", status);
    $("#ticket-card").setAttribute("data-status", status);
    document.title = ticket.code + " · " + statusText;

    // Called or being served: where to go, big.
    var call = $("#ticket-call");
    var held = has(HELD, status);
    call.hidden = !held;
    call.classList.toggle("is-serving", status === "serving");
    if (held) {
      var name = ticket.counter_id !== null ? counters[ticket.counter_id] : "";
      if (ticket.counter_id !== null && name === undefined) {
        name = "";
        if (!countersAskedFor[ticket.counter_id]) {
          countersAskedFor[ticket.counter_id] = true;
          loadCounters(); // a counter added after the page opened
        }
      }
      var counterBox = A.clear($("#ticket-counter"));
      if (status === "called") {
        setText("#ticket-call-title", A.t("ticket.called_now"));
        counterBox.appendChild(document.createTextNode(A.t("ticket.go_to") + " "));
      } else {
        setText("#ticket-call-title", A.t("common.status.serving"));
      }
      counterBox.appendChild(A.el("strong", { text: name }));
      var recalled = $("#ticket-recalled");
      recalled.textContent = A.t("ticket.recalled", { n: ticket.recall_count });
      recalled.hidden = !(status === "called" && ticket.recall_count > 0);
    }

    // Waiting: how many are ahead and how long.
    var waiting = status === "waiting";
    $("#ticket-facts").hidden = !waiting;
    var ahead = ticket.position;
    setText("#ticket-position", ahead === null || ahead === undefined ? "–"
      : ahead === 0 ? A.t("ticket.ahead_none") : A.t("ticket.ahead_count", { n: ahead }));
    var wait = ticket.estimated_wait_minutes;
    setText("#ticket-wait", wait === null || wait === undefined ? "–"
      : wait === 0 ? A.t("ticket.wait_none") : A.t("ticket.wait_minutes", { n: wait }));

    // Finished (or not there when called): said plainly.
    var final = $("#ticket-final");
    final.hidden = !has(FINAL, status);
    if (has(FINAL, status)) final.textContent = A.t("ticket.final." + status);
    $("#ticket-live").hidden = has(FINAL, status) && status !== "no_show";

    // Cancelling is for a waiting ticket only.
    $("#ticket-cancel").hidden = !waiting;
    if (!waiting) {
      $("#cancel-confirm").hidden = true;
      $("#btn-cancel").hidden = false;
    }

    setText("#ticket-issued", ticket.issued_at
      ? A.t("ticket.issued_at", { time: A.formatTime(ticket.issued_at, clinic.timezone) }) : "");

    var calledNow = status === "called" && previous &&
      (previous.status !== "called" || ticket.recall_count > previous.recall_count);
    if (calledNow) alertPatient();
  }

  function alertPatient() {
    var call = $("#ticket-call");
    call.classList.remove("is-new");
    void call.offsetWidth; // restart the animation
    call.classList.add("is-new");
    if (navigator.vibrate) {
      try { navigator.vibrate([400, 200, 400, 200, 400]); } catch (e) { /* not allowed here */ }
    }
  }

  function showError(text) {
    var box = $("#ticket-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  /* ---- reading it: once over HTTP, then live over the ticket's feed ---- */
  function refresh(force) {
    return A.api("GET", "/tickets/" + ticketId, { headers: HEADERS }).then(function (result) {
      showError("");
      if (force || !heardFromFeed) render(result.data);
    }, function (error) {
      if (!current) {
        showError(A.t("ticket.load_failed"));
        setTimeout(function () { refresh(false); }, 5000);
      } else if (!error.offline) {
        showError(A.errorText(error, "ticket"));
      }
    });
  }

  loadCounters();
  loadServices();
  refresh(false);
  new A.Feed("/ws/tickets/" + ticketId + "?token=" + encodeURIComponent(token), {
    onMessage: function (message) {
      if (message.type !== "ticket" || !message.ticket) return;
      heardFromFeed = true;
      showError("");
      render(message.ticket);
    }
  });

  // A phone that slept may hold a socket that died quietly: read the ticket when it wakes.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && current) refresh(true);
  });

  /* ---- cancelling, with a confirm step ---- */
  $("#btn-cancel").addEventListener("click", function () {
    $("#btn-cancel").hidden = true;
    $("#cancel-confirm").hidden = false;
  });
  $("#btn-cancel-no").addEventListener("click", function () {
    $("#cancel-confirm").hidden = true;
    $("#btn-cancel").hidden = false;
  });
  $("#btn-cancel-yes").addEventListener("click", function () {
    var yes = $("#btn-cancel-yes");
    yes.disabled = true;
    A.api("POST", "/tickets/" + ticketId + "/cancel", { headers: HEADERS }).then(function (result) {
      yes.disabled = false;
      showError("");
      render(result.data);
    }, function (error) {
      yes.disabled = false;
      $("#cancel-confirm").hidden = true;
      $("#btn-cancel").hidden = false;
      // ticket.code.*: illegal_transition (called meanwhile), ticket_not_found, invalid_ticket_token...
      var reason = A.errorText(error, "ticket");
      showError(error.offline ? A.errorText(error) : A.t("ticket.cancel_failed", { reason: reason }));
      refresh(true);
    });
  });
})();
