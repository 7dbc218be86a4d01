/* The course's own script (added to every page by book/_ext/course_site.py).
 *
 * 1. Sidebar buttons. pydata-sphinx-theme 0.17.1 and sphinx-book-theme 1.3.0
 *    both attach their handlers with document.querySelector(".primary-toggle")
 *    (and ".secondary-toggle"): the first such button on the page, which sits
 *    in a header the book theme hides. The visible buttons in the article
 *    header get no handler, so the menu never opens (pydata-sphinx-theme
 *    #2451). Every other toggle forwards its click to the handled one, which
 *    then does what the themes intend: on a wide screen the book theme
 *    collapses the sidebar, on a narrow one the pydata theme opens it as a
 *    dialog (focus returns to the button pressed when it closes).
 * 2. Display equations wider than their column scroll inside their own box
 *    (course.css draws a shadow at the edge that hides more); one that
 *    overflows is made focusable, so keyboard users can scroll it too.
 * 3. Search results: Sphinx builds each snippet from the text of the page as
 *    it was written, LaTeX source included; formulas are shown as text.
 * 4. Accessibility fixes of the themes' markup, found by axe-core
 *    (tests/test_browser.py): icons inside a named button are decorative
 *    (their "title" made the colour-mode button's name disagree with its
 *    content), and the search field's name is its visible text; the
 *    reference list's entries are list items; every box that
 *    scrolls sideways (code, outputs, tables) takes keyboard focus.
 */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  /* ---- 1. sidebar buttons ---------------------------------------------- */
  function forwardToggles() {
    ["primary", "secondary"].forEach(function (side) {
      var buttons = document.querySelectorAll("." + side + "-toggle");
      var handled = buttons[0];
      for (var i = 1; i < buttons.length; i++) {
        var button = buttons[i];
        button.setAttribute("aria-controls", "pst-" + side + "-sidebar");
        if (!button.getAttribute("aria-label")) {
          button.setAttribute("aria-label", side === "primary" ? "Site navigation" : "On this page");
        }
        button.addEventListener("click", function (event) {
          event.preventDefault();
          event.stopPropagation();
          handled.click();
        });
      }
    });
  }

  /* ---- 2. wide display equations ---------------------------------------- */
  function markScrollingMath() {
    document.querySelectorAll('div.math mjx-container[display="true"], mjx-container[jax="CHTML"]')
      .forEach(function (box) {
        var scrolls = box.scrollWidth > box.clientWidth + 1;
        box.classList.toggle("course-scrolls", scrolls);
        if (scrolls) {
          box.setAttribute("tabindex", "0");
        } else if (box.getAttribute("tabindex") === "0") {
          box.removeAttribute("tabindex");
        }
      });
  }

  function watchMath() {
    var mj = window.MathJax;
    var ready = mj && mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
    ready.then(function () {
      markScrollingMath();
      focusableScrollers();
      document.documentElement.setAttribute("data-course-math", "ready");
      var pending = null;
      window.addEventListener("resize", function () {
        clearTimeout(pending);
        pending = setTimeout(markScrollingMath, 100);
      });
    });
  }

  /* ---- 3. LaTeX as text in search results -------------------------------- */
  var SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ϵ", varepsilon: "ε",
    eta: "η", theta: "θ", lambda: "λ", mu: "μ", nu: "ν", pi: "π", rho: "ρ",
    sigma: "σ", tau: "τ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω",
    Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Pi: "Π", Sigma: "Σ",
    Phi: "Φ", Psi: "Ψ", Omega: "Ω",
    times: "×", cdot: "·", le: "≤", leq: "≤", ge: "≥", geq: "≥", neq: "≠",
    ne: "≠", approx: "≈", sim: "~", sum: "Σ", prod: "Π", top: "ᵀ", in: "∈",
    dots: "…", ldots: "…", cdots: "⋯", infty: "∞", to: "→", rightarrow: "→",
    pm: "±", partial: "∂", ln: "ln", log: "log", exp: "exp", min: "min",
    max: "max", quad: " ", qquad: " ", ",": " ", ";": " ", "!": "", " ": " ",
    "{": "{", "}": "}", "%": "%", "&": "&", "_": "_", "\\": " "
  };
  var SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
    "7": "⁷", "8": "⁸", "9": "⁹", "+": "⁺", "-": "⁻", "−": "⁻", "(": "⁽", ")": "⁾",
    "e": "ᵉ", "i": "ⁱ", "n": "ⁿ", "ᵀ": "ᵀ", "T": "ᵀ" };
  var SUB = { "0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆",
    "7": "₇", "8": "₈", "9": "₉", "+": "₊", "-": "₋", "(": "₍", ")": "₎", "a": "ₐ",
    "e": "ₑ", "h": "ₕ", "i": "ᵢ", "j": "ⱼ", "k": "ₖ", "l": "ₗ", "m": "ₘ", "n": "ₙ",
    "o": "ₒ", "p": "ₚ", "r": "ᵣ", "s": "ₛ", "t": "ₜ", "u": "ᵤ", "v": "ᵥ", "x": "ₓ",
    ",": " " };
  var ACCENTS = { hat: "\u0302", widehat: "\u0302", bar: "\u0304", overline: "\u0304",
    tilde: "\u0303", widetilde: "\u0303", dot: "\u0307", vec: "\u20d7" };

  function script(text, table, mark) {
    var chars = Array.from(text);
    if (chars.every(function (c) { return table[c]; })) {
      return chars.map(function (c) { return table[c]; }).join("");
    }
    return mark + (chars.length > 1 ? "(" + text + ")" : text);
  }

  /* Formula source to readable text: \(\hat{\beta}_i\) -> β̂ᵢ. */
  function latexToText(tex) {
    var s = tex.replace(/\\[()[\]]|\$\$?/g, " ")
      .replace(/\\(begin|end)\{[^{}]*\}/g, " ")
      .replace(/\\(left|right|big|Big|bigg|Bigg)\b\.?/g, "")
      .replace(/\\(textstyle|displaystyle|nonumber|notag)\b/g, "")
      .replace(/&/g, "");
    var inner = /\{([^{}]*)\}/;
    for (var guard = 0; guard < 50; guard++) {
      var before = s;
      s = s.replace(/\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, function (m, a, b) {
        return (a.length > 1 ? "(" + a + ")" : a) + "/" + (b.length > 1 ? "(" + b + ")" : b);
      })
        .replace(/\\sqrt\s*\{([^{}]*)\}/g, "√($1)")
        .replace(/\\underbrace\s*\{([^{}]*)\}\s*_\s*\{[^{}]*\}/g, "$1")
        .replace(/\\(operatorname|text|mathrm|mathbf|mathit|mathsf|textrm|textbf|boldsymbol|underbrace)\s*\{([^{}]*)\}/g, "$2")
        .replace(/\\([a-zA-Z]+)\s*\{([^{}]*)\}/g, function (m, cmd, arg) {
          return ACCENTS[cmd] ? arg + ACCENTS[cmd] : m;
        })
        .replace(/\^\s*\{([^{}]*)\}/g, function (m, a) { return script(latexSymbols(a), SUP, "^"); })
        .replace(/_\s*\{([^{}]*)\}/g, function (m, a) { return script(latexSymbols(a), SUB, "_"); });
      if (s === before) {
        s = s.replace(inner, "$1");  // a bare group: drop its braces
        if (s === before) break;
      }
    }
    s = latexSymbols(s)
      .replace(/\^\s*([^\s_^])/g, function (m, a) { return script(a, SUP, "^"); })
      .replace(/_\s*([^\s_^])/g, function (m, a) { return script(a, SUB, "_"); });
    return s.replace(/\s+/g, " ").trim();
  }

  function latexSymbols(s) {
    return s.replace(/\\([a-zA-Z]+|.)/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(SYMBOLS, name) ? SYMBOLS[name] : name;
    });
  }

  function cleanSearchSnippets() {
    /* `Search` is a top-level const of Sphinx's searchtools.js (search page only). */
    if (typeof Search === "undefined" || !Search.htmlToText || Search.courseClean) return;
    var htmlToText = Search.htmlToText;
    Search.htmlToText = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach(function (el) {
        el.textContent = " " + latexToText(el.textContent) + " ";
      });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    Search.courseClean = true;
    /* Titles come from the search index as written: clean them as they appear. */
    var results = document.getElementById("search-results");
    if (results) {
      new MutationObserver(function () {
        results.querySelectorAll("a").forEach(function (a) {
          if (/\\[a-zA-Z(]|\$/.test(a.textContent)) a.textContent = latexToText(a.textContent);
        });
      }).observe(results, { childList: true, subtree: true });
    }
  }

  /* ---- 4. accessibility ------------------------------------------------ */
  function decorativeIcons() {
    document.querySelectorAll("button[aria-label] i, button[aria-label] svg, a[aria-label] i, a[aria-label] svg")
      .forEach(function (icon) {
        icon.removeAttribute("title");
        icon.setAttribute("aria-hidden", "true");
        if (icon.tagName.toLowerCase() === "svg") {
          icon.removeAttribute("role");
          icon.removeAttribute("aria-labelledby");
          icon.querySelectorAll("title").forEach(function (t) { t.remove(); });
        }
      });
  }

  /* The search field's label ("Search") must contain its visible text. */
  function searchFieldName() {
    document.querySelectorAll(".search-button-field[aria-label]").forEach(function (button) {
      var visible = button.textContent.replace(/\s+/g, " ").trim();
      if (visible) button.setAttribute("aria-label", visible);
    });
  }

  function listRoles() {
    document.querySelectorAll('[role="list"] > [role="doc-biblioentry"], [role="list"] > [role="doc-endnote"]')
      .forEach(function (entry) { entry.setAttribute("role", "listitem"); });
  }

  function focusableScrollers() {
    document.querySelectorAll(".bd-article pre, .bd-article .cell_output, .bd-article .output, " +
      ".bd-article .pst-scrollable-table-container, .bd-article .table-wrapper, .bd-article .text_html")
      .forEach(function (box) {
        if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex") &&
            /(auto|scroll)/.test(getComputedStyle(box).overflowX)) {
          box.setAttribute("tabindex", "0");
        }
      });
  }

  function accessibility() {
    decorativeIcons();
    searchFieldName();
    listRoles();
    focusableScrollers();
    /* Font Awesome swaps <i> for <svg> when it gets to it: catch up then. */
    new MutationObserver(decorativeIcons).observe(document.body, { childList: true, subtree: true });
  }

  window.courseLatexToText = latexToText;  // for the browser tests
  cleanSearchSnippets();
  onReady(function () {
    cleanSearchSnippets();
    forwardToggles();
    accessibility();
  });
  if (document.readyState === "complete") watchMath();
  else window.addEventListener("load", watchMath);
})();
