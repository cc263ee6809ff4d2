/* Antrean: the waiting-room TV's voice, in Bahasa Indonesia.
   window.AntreanVoice holds pure functions (numbers to words, the words of a call) and the
   Announcer, which speaks a call with the browser's speech synthesis when the TV has a local
   Indonesian voice, and otherwise plays the recorded clips made by scripts/make_voice_clips.py
   (app/web/static/voice/, listed in manifest.json). See docs/voice.md.
   Plain ES2015: no async/await, no ?. or ??, no modules. */
(function () {
  "use strict";

  /* ---------------- pure functions ---------------- */

  var ONES = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"];
  var LETTERS = "abcdefghijklmnopqrstuvwxyz".split("");
  var PHRASE_IDS = ["nomor_antrean", "silakan_menuju"];
  var CHIME = "chime";
  var MAX_NUMBER = 999999999;

  /* 1..999 */
  function belowThousand(n) {
    var words = [];
    var hundreds = Math.floor(n / 100);
    var rest = n % 100;
    if (hundreds === 1) words.push("seratus");
    else if (hundreds > 1) words.push(ONES[hundreds], "ratus");
    if (rest === 0) return words;
    if (rest < 10) words.push(ONES[rest]);
    else if (rest === 10) words.push("sepuluh");
    else if (rest === 11) words.push("sebelas");
    else if (rest < 20) words.push(ONES[rest - 10], "belas");
    else {
      words.push(ONES[Math.floor(rest / 10)], "puluh");
      if (rest % 10) words.push(ONES[rest % 10]);
    }
    return words;
  }

  /* 12 -> ["dua", "belas"]; 1000 -> ["seribu"]; 1234 -> ["seribu", "dua", "ratus", "tiga",
     "puluh", "empat"]. Each word is a clip id. Whole numbers 0..999 999 999; beyond that, or
     for anything that is not a whole number >= 0, an empty list. */
  function numberWords(value) {
    var n = Number(value);
    if (!isFinite(n) || n < 0 || n > MAX_NUMBER || Math.floor(n) !== n) return [];
    if (n === 0) return ["nol"];
    var words = [];
    var millions = Math.floor(n / 1000000);
    var thousands = Math.floor((n % 1000000) / 1000);
    var rest = n % 1000;
    if (millions) words = words.concat(belowThousand(millions), ["juta"]);
    if (thousands === 1) words.push("seribu");
    else if (thousands > 1) words = words.concat(belowThousand(thousands), ["ribu"]);
    if (rest) words = words.concat(belowThousand(rest));
    return words;
  }

  function numberText(value) { return numberWords(value).join(" "); }

  /* A run of digits: its number in words ("012" -> dua belas), or digit by digit when long. */
  function digitsWords(digits) {
    if (digits.length > 9) {
      return digits.split("").map(function (d) { return ONES[Number(d)]; });
    }
    return numberWords(parseInt(digits, 10));
  }

  /* Lower-case runs of letters a-z and of digits (accents dropped, anything else separates). */
  function tokens(text) {
    var s = String(text === null || text === undefined ? "" : text);
    if (s.normalize) s = s.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    return s.toLowerCase().match(/[a-z]+|[0-9]+/g) || [];
  }

  var ROMAN = { i: 1, v: 5, x: 10 };
  /* "ii".."xxxix" -> 2..39 (a counter named "Ruang II"); null for anything else, and for the
     single letters i, v, x, which are more likely letters. */
  function romanValue(word) {
    if (word.length < 2 || !/^x{0,3}(ix|iv|v?i{0,3})$/.test(word)) return null;
    var total = 0;
    for (var i = 0; i < word.length; i++) {
      var value = ROMAN[word[i]];
      var next = ROMAN[word[i + 1]] || 0;
      total += value < next ? -value : value;
    }
    return total;
  }

  var vocabulary = {};
  function setVocabulary(words) {
    vocabulary = {};
    (words || []).forEach(function (word) { vocabulary[String(word).toLowerCase()] = true; });
  }
  function vocabularyList() { return Object.keys(vocabulary).sort(); }

  /* The parts a counter name is spoken in: one per word; a number in words; a word of the
     vocabulary as itself; an unknown word letter by letter (one part per letter). */
  function counterParts(name, words) {
    var known = words ? {} : vocabulary;
    if (words) words.forEach(function (w) { known[String(w).toLowerCase()] = true; });
    var parts = [];
    tokens(name).forEach(function (token) {
      if (/^[0-9]/.test(token)) { parts.push(digitsWords(token)); return; }
      if (known[token]) { parts.push([token]); return; }
      var roman = romanValue(token);
      if (roman !== null) { parts.push(numberWords(roman)); return; }
      token.split("").forEach(function (letter) { parts.push([letter]); });
    });
    return parts;
  }

  function counterWords(name, words) {
    return counterParts(name, words).reduce(function (all, part) { return all.concat(part); }, []);
  }

  /* "A-012" -> parts [["a"], ["dua", "belas"]] and the text "A, dua belas". */
  function codeParts(code) {
    var parts = [];
    var texts = [];
    tokens(code).forEach(function (token) {
      if (/^[0-9]/.test(token)) {
        var words = digitsWords(token);
        parts.push(words);
        texts.push(words.join(" "));
      } else {
        token.split("").forEach(function (letter) {
          parts.push([letter]);
          texts.push(letter.toUpperCase());
        });
      }
    });
    return { parts: parts, text: texts.join(", ") };
  }

  function codeWords(code) {
    return codeParts(code).parts.reduce(function (all, part) { return all.concat(part); }, []);
  }

  /* Pauses (ms) after each part of a call, so that it reads "Nomor antrean, A, dua belas,
     silakan menuju, Loket dua". Words inside one part follow each other at WORD_GAP_MS. */
  var PAUSE = { chime: 350, phrase: 220, letter: 140, code_end: 450, counter_word: 110 };
  var WORD_GAP_MS = 25;

  /* Everything needed to announce one call:
     {words: [clip ids, chime first], parts: [{ids, pause}], text: what speech synthesis says}. */
  function build(code, counterName, words) {
    var parts = [{ ids: [CHIME], pause: PAUSE.chime }, { ids: ["nomor_antrean"], pause: PAUSE.phrase }];
    var spokenCode = codeParts(code);
    spokenCode.parts.forEach(function (ids) {
      parts.push({ ids: ids, pause: ids.length === 1 && ids[0].length === 1 ? PAUSE.letter : PAUSE.phrase });
    });
    parts[parts.length - 1].pause = PAUSE.code_end;
    parts.push({ ids: ["silakan_menuju"], pause: PAUSE.phrase });
    counterParts(counterName, words).forEach(function (ids) {
      parts.push({ ids: ids, pause: PAUSE.counter_word });
    });
    parts[parts.length - 1].pause = 0;
    var all = parts.reduce(function (list, part) { return list.concat(part.ids); }, []);
    var name = String(counterName || "").trim();
    var text = "Nomor antrean, " + spokenCode.text + ". Silakan menuju, " + name + ".";
    return { words: all, parts: parts, text: text };
  }

  /* Every clip id the builder can produce (numbers up to 9999 and the vocabulary). */
  function possibleWords() {
    var seen = {};
    [CHIME].concat(PHRASE_IDS, LETTERS, vocabularyList()).forEach(function (w) { seen[w] = true; });
    for (var n = 0; n <= 9999; n++) numberWords(n).forEach(function (w) { seen[w] = true; });
    numberWords(123456789).forEach(function (w) { seen[w] = true; });
    return Object.keys(seen).sort();
  }

  /* The TV's own Indonesian voice: lang "id"/"id-ID"/"id_ID"; a local one (works without
     internet) unless allowRemote. null when there is none. */
  function pickVoice(voices, allowRemote) {
    var best = null;
    var bestScore = -1;
    (voices || []).forEach(function (voice) {
      var lang = String(voice.lang || "").toLowerCase().replace("_", "-");
      if (lang !== "id" && lang.indexOf("id-") !== 0) return;
      if (!allowRemote && voice.localService === false) return;
      var score = (voice.localService !== false ? 2 : 0) + (voice["default"] ? 1 : 0);
      if (score > bestScore) { best = voice; bestScore = score; }
    });
    return best;
  }

  /* ---------------- playing ---------------- */

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /* The recorded clips, played back to back through Web Audio. */
  function Clips(base) {
    this.base = base;
    this.manifest = null;
    this.buffers = {};
    this.loading = {};
    this.ctx = null;
  }
  Clips.prototype.context = function () {
    if (!this.ctx) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (Context) {
        try { this.ctx = new Context(); } catch (e) { this.ctx = null; }
      }
    }
    return this.ctx;
  };
  Clips.prototype.loadManifest = function () {
    var clips = this;
    return fetch(clips.base + "manifest.json", { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error("manifest " + response.status);
        return response.json();
      })
      .then(function (manifest) { clips.manifest = manifest; return manifest; });
  };
  Clips.prototype.has = function (id) {
    return !!(this.manifest && this.manifest.clips && this.manifest.clips[id]);
  };
  Clips.prototype.loadOne = function (id) {
    var clips = this;
    if (clips.buffers[id]) return Promise.resolve(clips.buffers[id]);
    if (clips.loading[id]) return clips.loading[id];
    var ctx = clips.context();
    if (!ctx || !clips.has(id)) return Promise.resolve(null);
    var promise = fetch(clips.base + clips.manifest.clips[id].file, { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error("clip " + response.status);
        return response.arrayBuffer();
      })
      .then(function (data) {
        return new Promise(function (resolve, reject) { ctx.decodeAudioData(data, resolve, reject); });
      })
      .then(function (buffer) {
        clips.buffers[id] = buffer;
        delete clips.loading[id];
        return buffer;
      }, function () {
        delete clips.loading[id]; // tried again next time
        return null;
      });
    clips.loading[id] = promise;
    return promise;
  };
  Clips.prototype.load = function (ids) {
    var clips = this;
    return Promise.all(ids.map(function (id) { return clips.loadOne(id); }));
  };
  /* Resolves true when audio can play now. A browser that allows sound only after a tap keeps
     the context suspended: then false (the page asks for a tap). */
  Clips.prototype.running = function (waitMs) {
    var ctx = this.context();
    if (!ctx) return Promise.resolve(false);
    if (ctx.state === "running") return Promise.resolve(true);
    try {
      var resumed = ctx.resume();
      if (resumed && resumed.catch) resumed.catch(function () { /* refused */ });
    } catch (e) { /* refused */ }
    return delay(waitMs || 300).then(function () { return ctx.state === "running"; });
  };
  /* Plays the parts' clips in order; resolves when the last one ended. */
  Clips.prototype.play = function (parts) {
    var ctx = this.context();
    var buffers = this.buffers;
    if (!ctx) return Promise.resolve();
    var at = ctx.currentTime + 0.05;
    var last = null;
    parts.forEach(function (part) {
      part.ids.forEach(function (id, index) {
        var buffer = buffers[id];
        if (!buffer) return;
        var source = ctx.createBufferSource();
        source.buffer = buffer;
        source.connect(ctx.destination);
        source.start(at);
        at += buffer.duration + (index < part.ids.length - 1 ? WORD_GAP_MS / 1000 : 0);
        last = source;
      });
      at += (part.pause || 0) / 1000;
    });
    if (!last) return Promise.resolve();
    var total = (at - ctx.currentTime) * 1000;
    return new Promise(function (resolve) {
      var done = false;
      function finish() { if (!done) { done = true; resolve(); } }
      last.onended = finish;
      setTimeout(finish, total + 1500); // a context that stalls must not stop the queue
    });
  };

  /* Speaks a call: the chime, then the browser's voice or the clips.
     options: {base: "/static/voice/", mode: "auto" | "speech" | "clips" | "off"} */
  function Announcer(options) {
    options = options || {};
    this.mode = options.mode || "auto";
    this.clips = new Clips(options.base || "/static/voice/");
    this.voice = null;
    this.engine = "none";
    this.started = false;
    this.onEngine = options.onEngine || function () {};
    this.speaking = []; // utterances kept referenced until they end (a Chrome quirk)
  }

  Announcer.prototype.setEngine = function (engine) {
    if (engine !== this.engine) {
      this.engine = engine;
      this.onEngine(engine);
    }
  };

  Announcer.prototype.chooseEngine = function () {
    if (this.mode === "off") return "none";
    var speechOk = !!this.voice && this.mode !== "clips";
    var clipsOk = !!this.clips.manifest && !!this.clips.context() && this.mode !== "speech";
    if (speechOk) return "speech";
    if (clipsOk) return "clips";
    return "none";
  };

  /* Loads the manifest and looks for a voice; resolves the engine. */
  Announcer.prototype.start = function () {
    var announcer = this;
    var synth = window.speechSynthesis;
    var allowRemote = announcer.mode === "speech";
    function lookForVoice() {
      if (!synth || announcer.mode === "clips" || announcer.mode === "off") return;
      var voice = null;
      try { voice = pickVoice(synth.getVoices(), allowRemote); } catch (e) { voice = null; }
      if (voice && !announcer.voice) {
        announcer.voice = voice;
        if (announcer.started) announcer.setEngine(announcer.chooseEngine());
      }
    }
    lookForVoice();
    if (synth && synth.addEventListener) synth.addEventListener("voiceschanged", lookForVoice);
    var manifest = announcer.mode === "off" ? Promise.resolve(null) :
      announcer.clips.loadManifest().then(function (m) {
        setVocabulary(m.vocabulary);
        return m;
      }, function () { return null; });
    // Voices may arrive a moment after the page loads; wait a little for them.
    var wait = !announcer.voice && synth && (announcer.mode === "auto" || announcer.mode === "speech");
    var voices = wait ? delay(1200).then(lookForVoice) : Promise.resolve();
    return Promise.all([manifest, voices]).then(function () {
      announcer.started = true;
      announcer.setEngine(announcer.chooseEngine());
      if (announcer.engine !== "none") {
        announcer.clips.load([CHIME].concat(PHRASE_IDS, ONES, ["sepuluh", "sebelas", "belas", "puluh"]));
      }
      return announcer.engine;
    });
  };

  Announcer.prototype.build = function (code, counterName) { return build(code, counterName); };

  /* Resolves true when the call can be played now (its clips loaded, sound allowed). */
  Announcer.prototype.ready = function (call) {
    var announcer = this;
    if (announcer.engine === "none") return Promise.resolve(false);
    var ids = announcer.engine === "clips" ? call.words : [CHIME];
    return announcer.clips.load(ids).then(function () {
      if (!announcer.clips.context()) return announcer.engine === "speech";
      return announcer.clips.running(300);
    });
  };

  Announcer.prototype.speak = function (text) {
    var announcer = this;
    var synth = window.speechSynthesis;
    return new Promise(function (resolve, reject) {
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = announcer.voice.lang || "id-ID";
      utterance.voice = announcer.voice;
      utterance.rate = 0.9;
      announcer.speaking.push(utterance);
      var done = false;
      function finish(error) {
        if (done) return;
        done = true;
        announcer.speaking.splice(announcer.speaking.indexOf(utterance), 1);
        if (error) reject(error); else resolve();
      }
      utterance.onend = function () { finish(null); };
      utterance.onerror = function (event) {
        var error = new Error("speech: " + (event && event.error));
        error.blocked = !!event && event.error === "not-allowed";
        finish(error);
      };
      // Some engines never say they finished: a call is never longer than this.
      setTimeout(function () { finish(null); }, 4000 + text.length * 150);
      synth.speak(utterance);
    });
  };

  /* Plays one call; resolves when it has been said. Rejects with .blocked when the browser
     refuses sound until someone taps the screen. */
  Announcer.prototype.play = function (call) {
    var announcer = this;
    if (announcer.engine === "clips") return announcer.clips.play(call.parts);
    if (announcer.engine !== "speech") return Promise.resolve();
    var chime = call.parts.filter(function (part) { return part.ids[0] === CHIME; });
    return announcer.clips.play(chime).then(function () {
      return announcer.speak(call.text);
    }).then(null, function (error) {
      if (error && error.blocked) throw error;
      // The voice failed (its engine broke or needs a network): use the clips from now on.
      announcer.voice = null;
      announcer.setEngine(announcer.chooseEngine());
      if (announcer.engine !== "clips") return undefined;
      var rest = call.parts.filter(function (part) { return part.ids[0] !== CHIME; });
      return announcer.clips.load(call.words).then(function () { return announcer.clips.play(rest); });
    });
  };

  /* Called from a tap: lets the browser play sound from now on. Resolves true when it does. */
  Announcer.prototype.unlock = function () {
    var ctx = this.clips.context();
    if (ctx) {
      try {
        var resumed = ctx.resume();
        if (resumed && resumed.catch) resumed.catch(function () { /* still refused */ });
        // A silent sound started inside the tap unlocks older WebKit too.
        var source = ctx.createBufferSource();
        source.buffer = ctx.createBuffer(1, 1, 22050);
        source.connect(ctx.destination);
        source.start(0);
      } catch (e) { /* nothing more to try */ }
    }
    if (this.engine === "speech" && window.speechSynthesis) {
      try { window.speechSynthesis.speak(new window.SpeechSynthesisUtterance("")); } catch (e) { /* ok */ }
    }
    return ctx ? this.clips.running(500) : Promise.resolve(true);
  };

  window.AntreanVoice = {
    numberWords: numberWords,
    numberText: numberText,
    tokens: tokens,
    codeWords: codeWords,
    counterWords: counterWords,
    build: build,
    possibleWords: possibleWords,
    setVocabulary: setVocabulary,
    vocabulary: vocabularyList,
    pickVoice: pickVoice,
    romanValue: romanValue,
    Announcer: Announcer
  };
})();
