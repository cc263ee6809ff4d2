/* Antrean: the waiting-room TV (/display/{clinic_id}).
   Now serving per counter, the last calls, waiting counts per service, the clinic's clock; each
   call and recall announced with a chime and a voice (voice.js), one after another.
   Lives on the display feed: a snapshot re-renders everything, ticket.* messages update it.
   Plain ES2015: no async/await, no ?. or ??, no modules. */
(function () {
  "use strict";

  var A = window.Antrean;
  var V = window.AntreanVoice;
  var boot = A.boot;
  var clinic = boot.clinic;

  var MAX_LAST_CALLS = 8;
  var ANNOUNCE_MAX_AGE_MS = 2 * 60 * 1000; // older calls (replayed after a reconnect) stay silent
  var QUEUE_MAX_AGE_MS = 2 * 60 * 1000;    // a call that waited this long to be spoken is dropped
  var FLASH_MS = 9000;
  var GAP_BETWEEN_CALLS_MS = 600;
  var FINISHED = ["ticket.completed", "ticket.no_show", "ticket.transferred", "ticket.cancelled",
    "ticket.expired", "ticket.requeued"];

  /* What the end-to-end tests and a curious technician can look at. */
  var D = (window.AntreanDisplay = {
    announced: [],   // one entry per announcement started: {code, counter, words, text, recall, ...}
    engine: "none",  // "speech" | "clips" | "none"
    lastSeq: null,
    soundBlocked: false,
    queue: [],
    snapshots: 0
  });

  var state = { services: {}, serviceOrder: [], counters: {}, counterOrder: [], lastCalls: [] };
  var tiles = {}; // counter id -> {root, name, code, idle, service, status}

  /* ---------------- time (the TV's own clock may be wrong: follow the server's) ------------- */

  var skew = 0; // local clock minus server clock, ms
  function serverNow() { return Date.now() - skew; }
  function syncClock() {
    var sent = Date.now();
    fetch("/healthz", { cache: "no-store", credentials: "omit" }).then(function (response) {
      var header = response.headers.get("Date");
      var server = header ? Date.parse(header) : NaN;
      if (isNaN(server)) return;
      var received = Date.now();
      // The header is in whole seconds: the server's time was within the second after it.
      var measured = (sent + received) / 2 - (server + 500);
      skew = Math.abs(measured) < 1500 ? 0 : measured;
    }, function () { /* offline: keep the last estimate */ });
  }
  function parseTime(iso) {
    if (!iso) return NaN;
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  }

  var lastLocalDate = null;
  function tick() {
    var now = new Date(serverNow());
    A.$("#clock-time").textContent = A.formatTime(now.toISOString(), clinic.timezone);
    var date = A.formatDate(now, clinic.timezone);
    A.$("#clock-date").textContent = date;
    // After the clinic's midnight the last calls belong to yesterday: start from a fresh snapshot.
    if (lastLocalDate !== null && date !== lastLocalDate && feed) feed.resync();
    lastLocalDate = date;
  }

  /* ---------------- rendering ---------------- */

  function serviceName(id) {
    var service = state.services[id];
    return service ? service.name : "";
  }

  function renderCounters() {
    var root = A.clear(A.$("#counters"));
    tiles = {};
    A.$("#no-counters").hidden = state.counterOrder.length > 0;
    state.counterOrder.forEach(function (id) {
      var tile = {
        name: A.el("div", { "class": "counter-name" }),
        code: A.el("div", { "class": "now-serving-code" }),
        idle: A.el("div", { "class": "counter-idle", text: A.t("display.counter_idle") }),
        service: A.el("div", { "class": "counter-service" }),
        status: A.el("div", { "class": "counter-status" })
      };
      tile.root = A.el("div", { "class": "counter-tile", "data-counter-id": id }, [
        tile.name, tile.code, tile.idle,
        A.el("div", { "class": "counter-meta" }, [tile.service, tile.status])
      ]);
      tiles[id] = tile;
      root.appendChild(tile.root);
      updateTile(id, false);
    });
    layoutCounters();
  }

  function updateTile(id, flash) {
    var tile = tiles[id];
    var counter = state.counters[id];
    if (!tile || !counter) return;
    var ticket = counter.ticket;
    tile.name.textContent = counter.name;
    tile.code.textContent = ticket ? ticket.code : "";
    tile.idle.hidden = !!ticket;
    tile.service.textContent = ticket ? serviceName(ticket.service_id) : "";
    tile.status.textContent = ticket ? A.t("common.status." + ticket.status) : "";
    tile.root.classList.toggle("is-empty", !ticket);
    tile.root.classList.toggle("is-serving", !!ticket && ticket.status === "serving");
    if (flash) flashNode(tile.root);
  }

  var flashTimers = [];
  function flashNode(node) {
    node.classList.remove("is-new");
    void node.offsetWidth; // restart the animation
    node.classList.add("is-new");
    var timer = setTimeout(function () { node.classList.remove("is-new"); }, FLASH_MS);
    flashTimers.push(timer);
  }

  /* Picks the grid that makes the codes biggest for this many counters on this screen. */
  function layoutCounters() {
    var panel = A.$(".counters-panel");
    var n = state.counterOrder.length;
    if (!n) return;
    var width = panel.clientWidth;
    var height = panel.clientHeight;
    var gap = Math.round(Math.min(width, height) * 0.02);
    var best = { cols: 1, base: 0 };
    for (var cols = 1; cols <= n; cols++) {
      var rows = Math.ceil(n / cols);
      var tileW = (width - gap * (cols - 1)) / cols;
      var tileH = (height - gap * (rows - 1)) / rows;
      var base = Math.min(tileH * 0.13, tileW * 0.075);
      if (base > best.base) best = { cols: cols, rows: rows, base: base, w: tileW, h: tileH };
    }
    state.counterOrder.forEach(function (id, index) {
      var style = tiles[id].root.style;
      style.width = Math.floor(best.w) + "px";
      style.height = Math.floor(best.h) + "px";
      style.marginRight = (index % best.cols === best.cols - 1) ? "0" : gap + "px";
      style.marginBottom = (Math.floor(index / best.cols) === best.rows - 1) ? "0" : gap + "px";
      style.fontSize = Math.max(12, Math.floor(best.base)) + "px";
    });
  }

  function renderLastCalls(flashFirst) {
    var list = A.clear(A.$("#last-calls"));
    A.$("#no-calls").hidden = state.lastCalls.length > 0;
    state.lastCalls.forEach(function (call, index) {
      var item = A.el("li", { "class": "last-call" + (call.recall ? " is-recall" : ""), "data-seq": call.seq }, [
        A.el("span", { "class": "last-call-code", text: call.code }),
        A.el("span", { "class": "last-call-where" }, [
          A.el("span", { "class": "last-call-counter", text: call.counter_name }),
          A.el("span", { "class": "last-call-time" }, [
            call.recall ? A.el("span", { "class": "last-call-recall", text: A.t("display.recall") }) : null,
            A.formatTime(call.at, clinic.timezone)
          ])
        ])
      ]);
      list.appendChild(item);
      if (index === 0 && flashFirst) flashNode(item);
    });
    fitLastCalls();
  }

  /* Lines that would be cut off at the bottom are hidden, not shown by halves. */
  function fitLastCalls() {
    var list = A.$("#last-calls");
    var bottom = list.getBoundingClientRect().bottom;
    A.$$("li", list).forEach(function (item) { item.hidden = false; });
    A.$$("li", list).forEach(function (item) {
      item.hidden = item.getBoundingClientRect().bottom > bottom + 1;
    });
  }

  function renderWaiting() {
    var list = A.clear(A.$("#waiting"));
    list.classList.toggle("is-crowded", state.serviceOrder.length > 5);
    state.serviceOrder.forEach(function (id) {
      var service = state.services[id];
      list.appendChild(A.el("li", { "class": "waiting-item" + (service.is_open ? "" : " is-closed") }, [
        A.el("span", { "class": "waiting-prefix", text: service.prefix }),
        A.el("span", { "class": "waiting-name" }, [
          service.name,
          service.is_open ? null : A.el("small", { "class": "waiting-closed", text: A.t("display.closed") })
        ]),
        A.el("span", { "class": "waiting-count", "data-waiting-service-id": id, text: service.waiting }),
        A.el("span", { "class": "waiting-unit", text: A.t("display.people") })
      ]));
    });
  }

  function setWaiting(serviceId, count) {
    var service = state.services[serviceId];
    if (!service) return false;
    service.waiting = count;
    var node = A.$('[data-waiting-service-id="' + serviceId + '"]');
    if (node) node.textContent = String(count);
    return true;
  }

  /* ---------------- the feed ---------------- */

  function onSnapshot(message, seenBefore) {
    D.snapshots += 1;
    state.services = {};
    state.serviceOrder = [];
    message.services.forEach(function (service) {
      state.services[service.id] = service;
      state.serviceOrder.push(service.id);
    });
    state.counters = {};
    state.counterOrder = [];
    message.counters.forEach(function (counter) {
      state.counters[counter.id] = { id: counter.id, name: counter.name, ticket: counter.ticket };
      state.counterOrder.push(counter.id);
    });
    state.lastCalls = message.last_calls.slice(0, MAX_LAST_CALLS);
    if (message.clinic && message.clinic.name) {
      clinic.name = message.clinic.name;
      A.$("#clinic-name").textContent = message.clinic.name;
    }
    if (message.clinic && message.clinic.timezone) clinic.timezone = message.clinic.timezone;
    // The footer's height decides the counters' room: render it first.
    renderWaiting();
    renderLastCalls(false);
    renderCounters();
    tick();
    preloadVoice();
    announceMissedCalls(message.last_calls, seenBefore);
  }

  /* Calls made while this page was reconnecting arrive inside the snapshot: speak the recent
     ones this page has not handled yet (a first snapshot, seenBefore null, speaks nothing). */
  function announceMissedCalls(lastCalls, seenBefore) {
    if (seenBefore === null || seenBefore === undefined) return;
    lastCalls.slice().reverse().forEach(function (call) {
      if (call.seq <= seenBefore || !isFresh(call.at)) return;
      enqueue({
        type: call.recall ? "ticket.recalled" : "ticket.called",
        seq: call.seq,
        ticket: { id: null, code: call.code }
      }, call.counter_name);
    });
  }

  function counterHolding(ticketId) {
    for (var i = 0; i < state.counterOrder.length; i++) {
      var counter = state.counters[state.counterOrder[i]];
      if (counter.ticket && counter.ticket.id === ticketId) return counter;
    }
    return null;
  }

  function isFresh(at) {
    var moment = parseTime(at);
    return isNaN(moment) || serverNow() - moment < ANNOUNCE_MAX_AGE_MS;
  }

  function onCall(message) {
    var ticket = message.ticket;
    var counter = message.counter && state.counters[message.counter.id];
    if (!counter) { feed.resync(); return; } // a counter this page does not know yet
    var previous = counterHolding(ticket.id);
    if (previous && previous !== counter) {
      previous.ticket = null;
      updateTile(previous.id, false);
    }
    if (message.counter.name) counter.name = message.counter.name;
    counter.ticket = { id: ticket.id, code: ticket.code, status: "called", service_id: ticket.service_id };
    var fresh = isFresh(message.at);
    updateTile(counter.id, fresh);
    state.lastCalls.unshift({
      seq: message.seq, code: ticket.code, counter_id: counter.id, counter_name: counter.name,
      at: message.at, recall: message.type === "ticket.recalled"
    });
    state.lastCalls = state.lastCalls.slice(0, MAX_LAST_CALLS);
    renderLastCalls(fresh);
    if (fresh) enqueue(message, counter.name);
  }

  function onMessage(message, info) {
    D.lastSeq = feed.lastSeq;
    if (message.type === "snapshot") { onSnapshot(message, info && info.seenBefore); return; }
    if (message.type === "clinic.changed") { feed.resync(); return; }
    if (!message.type || message.type.indexOf("ticket.") !== 0 || !message.ticket) return;
    var unknown = false;
    Object.keys(message.waiting || {}).forEach(function (id) {
      if (!setWaiting(id, message.waiting[id])) unknown = true;
    });
    if (unknown) { feed.resync(); return; } // a service this page does not know yet
    var ticket = message.ticket;
    if (message.type === "ticket.called" || message.type === "ticket.recalled") {
      onCall(message);
    } else if (message.type === "ticket.started") {
      var holder = counterHolding(ticket.id);
      if (holder) {
        holder.ticket.status = "serving";
        updateTile(holder.id, false);
      }
    } else if (FINISHED.indexOf(message.type) >= 0) {
      var counter = counterHolding(ticket.id);
      if (counter) {
        counter.ticket = null;
        updateTile(counter.id, false);
      }
      dropQueued(ticket.id);
    }
  }

  /* ---------------- announcements: one at a time, in order ---------------- */

  var voiceMode = (/[?&]voice=(auto|speech|clips|off)\b/.exec(location.search) || [])[1] || "auto";
  var announcer = new V.Announcer({
    mode: voiceMode,
    onEngine: function (engine) { D.engine = engine; }
  });
  var voiceStarted = false;
  var busy = false;

  function enqueue(message, counterName) {
    var call = announcer.build(message.ticket.code, counterName);
    D.queue.push({
      ticketId: message.ticket.id, code: message.ticket.code, counter: counterName,
      recall: message.type === "ticket.recalled", seq: message.seq, call: call, queuedAt: Date.now()
    });
    pump();
  }

  /* Fetches the clips this clinic's calls will need before the first call comes. */
  function preloadVoice() {
    if (!voiceStarted || D.engine !== "clips") return;
    var ids = [];
    state.counterOrder.forEach(function (id) { ids = ids.concat(V.counterWords(state.counters[id].name)); });
    state.serviceOrder.forEach(function (id) { ids = ids.concat(V.codeWords(state.services[id].prefix)); });
    announcer.clips.load(ids);
  }

  /* A call whose ticket was finished before its turn came (Next pressed again) stays silent. */
  function dropQueued(ticketId) {
    D.queue = D.queue.filter(function (item) { return item.ticketId !== ticketId; });
  }

  function pump() {
    if (busy || !voiceStarted || D.soundBlocked || !D.queue.length) return;
    var item = D.queue.shift();
    if (Date.now() - item.queuedAt > QUEUE_MAX_AGE_MS || D.engine === "none") { pump(); return; }
    busy = true;
    announcer.ready(item.call).then(function (ok) {
      if (!ok) {
        D.queue.unshift(item);
        busy = false;
        askForTap();
        return;
      }
      var entry = {
        code: item.code, counter: item.counter, words: item.call.words, text: item.call.text,
        recall: item.recall, seq: item.seq, engine: D.engine,
        startedAt: Date.now(), endedAt: null
      };
      D.announced.push(entry);
      if (D.announced.length > 200) D.announced.shift(); // a TV runs for months
      highlightCalling(item);
      announcer.play(item.call).then(function () {
        entry.endedAt = Date.now();
        next();
      }, function (error) {
        entry.endedAt = Date.now();
        entry.failed = true;
        if (error && error.blocked) {
          D.announced.pop();
          D.queue.unshift(item);
          busy = false;
          askForTap();
          return;
        }
        next();
      });
    }, function () {
      busy = false;
      setTimeout(pump, GAP_BETWEEN_CALLS_MS);
    });
  }

  function next() {
    busy = false;
    setTimeout(pump, GAP_BETWEEN_CALLS_MS);
  }

  /* The tile being announced blinks again while its call is spoken. */
  function highlightCalling(item) {
    var counter = counterHolding(item.ticketId);
    if (counter && tiles[counter.id]) flashNode(tiles[counter.id].root);
  }

  /* ---------------- "tap to enable sound" ---------------- */

  function askForTap() {
    D.soundBlocked = true;
    A.$("#sound-overlay").hidden = false;
    A.$(".sound-overlay-button").focus(); // the remote's OK button presses it
  }

  function onTap(event) {
    if (event) event.preventDefault();
    announcer.unlock().then(function (ok) {
      if (!ok) return; // still refused: the overlay stays
      D.soundBlocked = false;
      A.$("#sound-overlay").hidden = true;
      pump();
    });
  }

  /* ---------------- start ---------------- */

  var feed = null;

  function start() {
    A.$("#sound-overlay").addEventListener("click", onTap);
    A.$("#sound-overlay").addEventListener("touchend", onTap);
    syncClock();
    tick();
    setInterval(tick, 1000);
    setInterval(syncClock, 10 * 60 * 1000);
    window.addEventListener("resize", function () { layoutCounters(); fitLastCalls(); });
    feed = new A.Feed("/ws/clinics/" + clinic.id, {
      onMessage: onMessage,
      onOpen: syncClock
    }, { trackSeq: true, sinceOnReconnect: false }); // setup changes are not replayed: snapshot
    D.feed = feed;
    announcer.start().then(function (engine) {
      D.engine = engine;
      voiceStarted = true;
      if (engine === "none") return;
      preloadVoice();
      // A TV started without --autoplay-policy=no-user-gesture-required needs one tap.
      announcer.clips.running(400).then(function (ok) {
        if (!ok && announcer.clips.context()) askForTap(); else pump();
      });
    });
  }

  start();
})();
