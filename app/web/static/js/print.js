/* The printed ticket (templates/ticket_print.html): a page of its own, without common.js.
   Chromium ignores `size: 58mm auto`: give the page the slip's own height, so a roll printer
   feeds just the ticket; then print by itself when the kiosk asked (data-autoprint="1").
   The page size goes in through the CSS object model (insertRule), which a Content-Security-
   Policy without 'unsafe-inline' allows, where a <style> element would be refused.
   Plain ES2015, no build step. */
(function () {
  "use strict";

  var body = document.body;
  var paper = body.getAttribute("data-paper") === "80" ? "80" : "58";
  var autoprint = body.getAttribute("data-autoprint") === "1";

  function pageRule(text) {
    var link = document.getElementById("print-css");
    var sheet = link && link.sheet;
    try {
      if (sheet) { sheet.insertRule(text, sheet.cssRules.length); return; }
    } catch (e) { /* an unreadable sheet: a sheet of our own below */ }
    if (typeof CSSStyleSheet === "function" && "adoptedStyleSheets" in document) {
      var own = new CSSStyleSheet();
      own.insertRule(text, 0);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([own]);
    }
  }

  function fitPage() {
    var slip = document.getElementById("slip");
    var code = document.getElementById("slip-code");
    var size = parseFloat(window.getComputedStyle(code).fontSize);
    while (code.scrollWidth > code.clientWidth && size > 12) { // a font wider than planned
      size -= 2;
      code.style.fontSize = size + "px";
    }
    var mm = Math.ceil(slip.getBoundingClientRect().height * 25.4 / 96) + 4;
    pageRule("@page { size: " + paper + "mm " + mm + "mm; margin: 0 }");
  }

  window.addEventListener("load", function () {
    fitPage();
    if (autoprint) window.print();
  });
})();
