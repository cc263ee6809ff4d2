/* Antrean pages: what every page shares. Plain ES2015 (no async/await, no ?. or ??) so that
   older Android TV and kiosk browsers run it; no build step. */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("boot").textContent);
  var A = (window.Antrean = { boot: boot });

  /* ---- messages ---- */
  A.t = function (key, params) {
    var text = Object.prototype.hasOwnProperty.call(boot.messages, key) ? boot.messages[key] : key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return params && params[name] !== undefined ? String(params[name]) : whole;
    });
  };

  /* ---- DOM ---- */
  A.$ = function (selector, root) { return (root || document).querySelector(selector); };
  A.$$ = function (selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  };
  /* A.el("button", {class: "big", onclick: f, "data-id": 3}, ["text", childNode]) */
  A.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name.indexOf("on") === 0 && typeof value === "function") {
        node.addEventListener(name.slice(2), value);
      } else if (name === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    [].concat(children === undefined ? [] : children).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    });
    return node;
  };
  A.clear = function (node) { while (node.firstChild) node.removeChild(node.firstChild); return node; };

  /* ---- storage (a browser may refuse it: pages still work for the session) ---- */
  var memoryStore = {};
  A.store = {
    get: function (key) {
      try { var raw = window.localStorage.getItem(key); return raw === null ? null : JSON.parse(raw); }
      catch (e) { return memoryStore[key] === undefined ? null : memoryStore[key]; }
    },
    set: function (key, value) {
      memoryStore[key] = value;
      try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
    },
    remove: function (key) {
      delete memoryStore[key];
      try { window.localStorage.removeItem(key); } catch (e) { /* private mode */ }
    }
  };

  A.uuid = function () {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); });
    return hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" + hex.slice(6, 8).join("") +
      "-" + hex.slice(8, 10).join("") + "-" + hex.slice(10).join("");
  };

  /* ---- offline marker: shown while any source reports it cannot reach the server ---- */
  var offlineSources = {};
  A.setOffline = function (source, offline) {
    if (offline) offlineSources[source] = true; else delete offlineSources[source];
    var any = Object.keys(offlineSources).length > 0;
    var marker = document.getElementById("offline-marker");
    if (marker) marker.hidden = !any;
    document.body.classList.toggle("is-offline", any);
  };

  /* ---- HTTP: A.api(method, path, {json, form, token, headers, timeout}) ----
     Resolves {status, data}; rejects with an Error carrying .status, .code (the body's stable
     error code, docs/errors.md), .retryAfter (seconds, from a Retry-After header, or null) and
     .fields (an invalid_input's fields, see A.fieldErrors); or .offline when the server could
     not be reached. Pages decide by .code (and .status), never by the body's English `detail`. */
  A.api = function (method, path, options) {
    options = options || {};
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    var body;
    if (options.token) headers.Authorization = "Bearer " + options.token;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = Object.keys(options.form).map(function (k) {
        return encodeURIComponent(k) + "=" + encodeURIComponent(options.form[k]);
      }).join("&");
    }
    var url = path.indexOf("/") === 0 && path.indexOf(boot.api) !== 0 ? boot.api + path : path;
    var timeout = options.timeout || 10000;
    return new Promise(function (resolve, reject) {
      var finished = false;
      var timer = setTimeout(function () {
        if (finished) return;
        finished = true;
        var error = new Error("timeout");
        error.offline = true;
        A.setOffline("http", true);
        reject(error);
      }, timeout);
      fetch(url, { method: method, headers: headers, body: body, credentials: "omit", cache: "no-store" })
        .then(function (response) {
          var status = response.status;
          var retryAfter = response.headers.get("Retry-After");
          return response.text().then(function (text) {
            return { status: status, data: A.parseBody(text), retryAfter: retryAfter };
          });
        })
        .then(function (result) {
          if (finished) { A.setOffline("http", false); return; } // late, but the server is there
          finished = true;
          clearTimeout(timer);
          A.setOffline("http", false);
          if (result.status >= 200 && result.status < 300) {
            resolve({ status: result.status, data: result.data });
            return;
          }
          reject(A.httpError(result.status, result.data, result.retryAfter));
        }, function (cause) {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          var error = new Error(String(cause));
          error.offline = true;
          A.setOffline("http", true);
          reject(error);
        });
    });
  };

  A.parseBody = function (text) {
    try { return text ? JSON.parse(text) : null; } catch (e) { return text; }
  };

  /* The Error for an answer that is not 2xx: see A.api. */
  A.httpError = function (status, data, retryAfterHeader) {
    var error = new Error("HTTP " + status);
    var code = data && typeof data === "object" ? data.code : null;
    error.status = status;
    error.code = typeof code === "string" ? code : "";
    error.retryAfter = A.retryAfterSeconds(retryAfterHeader);
    error.fields = error.code === "invalid_input" ? A.fieldErrors(data) : [];
    return error;
  };

  /* Retry-After, in whole seconds from now (it may be seconds or an HTTP date); null if absent. */
  A.retryAfterSeconds = function (header) {
    if (header === null || header === undefined || header === "") return null;
    var text = String(header).trim();
    if (/^\d+$/.test(text)) return Math.max(1, parseInt(text, 10));
    var at = Date.parse(text);
    return isNaN(at) ? null : Math.max(1, Math.ceil((at - Date.now()) / 1000));
  };

  /* The one place a page reads an error body's `detail`: an invalid_input's list of FastAPI
     field errors, as [{field, loc, type}] for marking the form's fields. Only `loc` and `type`
     are kept; the English `msg` is never shown (the page words each type itself). */
  A.fieldErrors = function (data) {
    var items = data && typeof data === "object" && Array.isArray(data.detail) ? data.detail : [];
    return items.filter(function (item) { return item && typeof item === "object"; }).map(function (item) {
      var loc = Array.isArray(item.loc) ? item.loc : [];
      return { field: typeof loc[1] === "string" ? loc[1] : "", loc: loc, type: String(item.type || "") };
    });
  };

  A.has = function (key) { return Object.prototype.hasOwnProperty.call(boot.messages, key); };

  /* The message to show a person for a failed call, chosen by its code, never its `detail`:
     "<scope>.code.<code>", then "common.code.<code>"; for a code the page does not know (or an
     answer without one, from a proxy) by status: "<scope>.http.<status>", "common.http.<status>",
     then "<scope>.http.4xx" (or 5xx) and "common.http.4xx" (or 5xx). A {wait} in the message
     says when to try again (from Retry-After); params fill the page's own placeholders, such as
     {service}. See app/web/i18n.py. */
  A.errorText = function (error, scope, params) {
    if (error.offline) return A.t("common.network_error");
    if (!error.status) return A.t("common.unexpected"); // not an answer: a fault of this page
    var values = Object.assign({}, params || {});
    values.wait = error.retryAfter ? A.t("common.retry_in", { n: error.retryAfter }) : A.t("common.retry_soon");
    var scopes = (scope && scope !== "common" ? [scope] : []).concat(["common"]);
    var keys = [];
    if (error.code) scopes.forEach(function (name) { keys.push(name + ".code." + error.code); });
    scopes.forEach(function (name) { keys.push(name + ".http." + error.status); });
    scopes.forEach(function (name) { keys.push(name + (error.status >= 500 ? ".http.5xx" : ".http.4xx")); });
    for (var i = 0; i < keys.length; i++) {
      if (A.has(keys[i])) return A.t(keys[i], values);
    }
    return A.t("common.http.4xx", values);
  };

  /* ---- realtime: a WebSocket that reconnects by itself ----
     new A.Feed(path, {onMessage, onOpen, onClose}, {trackSeq: true, sinceOnReconnect: true})
     With trackSeq it remembers the last `seq`; a gap in `seq` reconnects with ?since= so the
     server replays what was missed. After a dropped connection it reconnects with ?since= too,
     unless sinceOnReconnect is false: then it starts from a fresh snapshot (a display does,
     because setup changes, `clinic.changed`, carry no seq and are not replayed).
     onMessage(message, {seenBefore}) gets the highest seq handled before this message, so a
     page can tell what in a snapshot is news to it. */
  A.wsUrl = function (path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  };

  A.Feed = function (path, handlers, options) {
    this.path = path;
    this.handlers = handlers || {};
    this.options = options || {};
    this.lastSeq = null;
    this.highestSeen = null;
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    this.lastMessageAt = 0;
    this.connected = false;
    var feed = this;
    // The server sends a ping after 20 s of quiet: 45 s of silence means a dead connection.
    this.watchdog = setInterval(function () {
      if (feed.connected && Date.now() - feed.lastMessageAt > (feed.options.silenceMs || 45000)) {
        feed.drop();
      }
    }, 5000);
    this.connect(false);
  };
  A.Feed.prototype.offlineKey = function () { return "feed:" + this.path; };
  A.Feed.prototype.connect = function (withSince) {
    var feed = this;
    clearTimeout(feed.timer);
    feed.timer = null;
    if (feed.stopped) return;
    var url = A.wsUrl(feed.path);
    if (withSince && feed.options.trackSeq && feed.lastSeq !== null) {
      url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + feed.lastSeq;
    }
    var socket;
    try { socket = new WebSocket(url); } catch (e) { feed.scheduleReconnect(); return; }
    feed.socket = socket;
    socket.onopen = function () {
      if (socket !== feed.socket) return;
      feed.connected = true;
      feed.lastMessageAt = Date.now();
      A.setOffline(feed.offlineKey(), false);
      if (feed.handlers.onOpen) feed.handlers.onOpen();
    };
    socket.onmessage = function (event) {
      if (socket !== feed.socket) return;
      feed.lastMessageAt = Date.now();
      feed.attempt = 0; // a server that accepts and then closes at once keeps backing off
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "ping") return;
      var seenBefore = feed.highestSeen;
      if (feed.options.trackSeq && typeof message.seq === "number") {
        if (message.type === "snapshot") {
          feed.lastSeq = message.seq;
        } else if (feed.lastSeq !== null && message.seq <= feed.lastSeq) {
          return; // already seen (a replay overlapping what arrived live)
        } else if (feed.lastSeq !== null && message.seq !== feed.lastSeq + 1) {
          feed.restart(); // a gap: reconnect with since=lastSeq and get what was missed
          return;
        } else {
          feed.lastSeq = message.seq;
        }
        if (feed.highestSeen === null || message.seq > feed.highestSeen) feed.highestSeen = message.seq;
      }
      if (!feed.handlers.onMessage) return;
      try {
        feed.handlers.onMessage(message, { seenBefore: seenBefore });
      } catch (error) {
        // A half-applied message leaves the page unsure of its state: start from a snapshot.
        if (window.console) console.error("feed handler failed", error);
        feed.lastSeq = null;
        feed.drop();
      }
    };
    socket.onclose = function (event) {
      if (socket !== feed.socket) return;
      feed.connected = false;
      feed.socket = null;
      if (feed.handlers.onClose) feed.handlers.onClose(event);
      // 4404: the clinic is unknown; 1008: the ticket token is refused. Retrying cannot help.
      if (event.code === 4404 || event.code === 1008) { feed.stopped = true; return; }
      A.setOffline(feed.offlineKey(), true);
      feed.scheduleReconnect();
    };
    socket.onerror = function () { /* onclose follows */ };
  };
  A.Feed.prototype.scheduleReconnect = function () {
    var feed = this;
    if (feed.stopped) return;
    clearTimeout(feed.timer);
    feed.attempt += 1;
    var delay = Math.min(10000, 500 * Math.pow(2, Math.min(feed.attempt, 5)));
    var withSince = feed.options.sinceOnReconnect !== false;
    feed.timer = setTimeout(function () { feed.connect(withSince); }, delay / 2 + Math.random() * delay / 2);
  };
  /* Close this socket and reconnect after the usual pause (a dead or confused connection). */
  A.Feed.prototype.drop = function () {
    var socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket) { try { socket.close(); } catch (e) { /* already closed */ } }
    this.scheduleReconnect();
  };
  /* Reconnect now with since=lastSeq: the server replays what this page missed. */
  A.Feed.prototype.restart = function () {
    var socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket) { try { socket.close(); } catch (e) { /* already closed */ } }
    this.connect(true);
  };
  /* Reconnect now for a fresh snapshot. */
  A.Feed.prototype.resync = function () { this.lastSeq = null; this.restart(); };
  A.Feed.prototype.stop = function () {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.timer);
    var socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket) { try { socket.close(); } catch (e) { /* already closed */ } }
    A.setOffline(this.offlineKey(), false);
  };

  /* ---- time in the clinic's timezone ---- */
  A.formatTime = function (iso, timezone, withSeconds) {
    if (!iso) return "";
    var options = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (withSeconds) options.second = "2-digit";
    if (timezone) options.timeZone = timezone;
    return new Date(iso).toLocaleTimeString(boot.lang === "id" ? "id-ID" : "en-GB", options);
  };
  A.formatDate = function (date, timezone) {
    var options = { weekday: "long", day: "numeric", month: "long", year: "numeric" };
    if (timezone) options.timeZone = timezone;
    return date.toLocaleDateString(boot.lang === "id" ? "id-ID" : "en-GB", options);
  };
  A.minutes = function (n) {
    return n === null || n === undefined ? "–" : A.t("common.minutes", { n: n });
  };

  /* ---- staff and admin sign-in, kept by the browser of a counter PC ---- */
  var SESSION_KEY = "antrean.session";
  A.session = {
    get: function () { return A.store.get(SESSION_KEY); },
    clear: function () { A.store.remove(SESSION_KEY); },
    /* Resolves {token, me}; rejects like A.api (401 invalid_credentials: wrong username or
       password; account_disabled; 429 rate_limited, with Retry-After). */
    login: function (username, password) {
      return A.api("POST", "/auth/token", { form: { username: username, password: password } })
        .then(function (result) {
          var token = result.data.access_token;
          return A.api("GET", "/auth/me", { token: token }).then(function (me) {
            var session = { token: token, me: me.data };
            A.store.set(SESSION_KEY, session);
            return session;
          });
        });
    },
    /* The stored session if its token still works (resolves null otherwise). */
    restore: function () {
      var session = A.session.get();
      if (!session) return Promise.resolve(null);
      return A.api("GET", "/auth/me", { token: session.token }).then(function (me) {
        session.me = me.data;
        return session;
      }, function (error) {
        if (error.status === 401) { A.session.clear(); return null; }
        if (error.offline) return session;
        throw error;
      });
    }
  };

  /* ---- the sign-in form that /staff, /admin and /office share (templates/_login.html) ----
     A.loginForm.bind(onSignedIn) wires the form; A.loginForm.show(message) resets it;
     A.loginForm.accept(session, page) shows the user in the userbar ("<page>.signed_in_as")
     and returns session.me, or drops the session and returns null when it is not a staff or
     admin account (a device key). */
  A.loginForm = {
    accept: function (session, page) {
      if (!session.me || session.me.kind !== "user") {
        A.session.clear();
        return null;
      }
      A.$("#userbar").hidden = false;
      A.$("#userbar-name").textContent = A.t(page + ".signed_in_as", { name: session.me.name });
      return session.me;
    },
    show: function (message) {
      var error = A.$("#login-error");
      error.textContent = message || "";
      error.hidden = !message;
      A.$("#login-submit").disabled = false;
      A.$("#login-password").value = "";
    },
    bind: function (onSignedIn) {
      A.$("#login-form").addEventListener("submit", function (event) {
        event.preventDefault();
        var username = A.$("#login-username").value.trim();
        var password = A.$("#login-password").value;
        var error = A.$("#login-error");
        if (!username || !password) {
          error.textContent = A.t("common.login_missing");
          error.hidden = false;
          return;
        }
        A.$("#login-submit").disabled = true;
        error.hidden = true;
        A.session.login(username, password).then(function (session) {
          A.$("#login-password").value = "";
          onSignedIn(session);
        }, function (failure) {
          A.$("#login-submit").disabled = false;
          error.textContent = A.errorText(failure, "common.login");
          error.hidden = false;
        });
      });
    }
  };

  /* ---- services and tickets: what the kiosk and the phone's take page share ---- */
  A.quotaFull = function (service) {
    return service.daily_quota !== null && service.daily_quota !== undefined &&
      service.issued_today >= service.daily_quota;
  };

  /* Taking a ticket so that a retry never makes two: one Idempotency-Key per tap, kept while
     the answer may have been lost (offline, a timeout, a 5xx: the server may have made the
     ticket), so the same tap again gets that ticket; dropped on a 4xx (nothing was made).
     A rejected send carries error.mayHaveMade. */
  var TICKET_RETRY_WINDOW_MS = 120000; // a failed tap's key is reused by the same tap this long
  A.TicketTaking = function (clinicId) {
    this.clinicId = clinicId;
    this.pending = null; // {serviceId, priority, key, at}: a tap whose answer never arrived
  };
  A.TicketTaking.prototype.attemptFor = function (serviceId, priority) {
    var pending = this.pending;
    if (pending && pending.serviceId === serviceId && pending.priority === priority &&
        Date.now() - pending.at < TICKET_RETRY_WINDOW_MS) {
      return pending;
    }
    return { serviceId: serviceId, priority: priority, key: A.uuid() };
  };
  A.TicketTaking.prototype.send = function (attempt, options) {
    var taking = this;
    attempt.at = Date.now();
    taking.pending = attempt;
    return A.api("POST", "/clinics/" + taking.clinicId + "/tickets", {
      token: options.token,
      json: { service_id: attempt.serviceId, priority: attempt.priority },
      headers: { "Idempotency-Key": attempt.key },
      timeout: options.timeout
    }).then(function (result) {
      taking.pending = null;
      return result.data;
    }, function (error) {
      error.mayHaveMade = Boolean(error.offline || !error.status || error.status >= 500);
      if (!error.mayHaveMade) taking.pending = null;
      throw error;
    });
  };
})();
