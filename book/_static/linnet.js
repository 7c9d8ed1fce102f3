/* Book-wide script (Jupyter Book loads every .js of _static/ on every page; this one runs in
   the page's <head>, before the theme's deferred scripts).

   1. Colour mode: the book's default mode is "auto" (_config.yml); the theme writes that word
      into <html data-theme> until its own script has run, which matches neither its light nor
      its dark colours. The reader's preference is applied at once instead.
   2. Sidebar buttons: pydata-sphinx-theme and sphinx-book-theme bind their click handlers to
      the *first* `.primary-toggle` / `.secondary-toggle` of the page, a button of the hidden
      navbar, so the visible ☰ and "Contents" buttons did nothing. A click on any other toggle
      is handed to that first one, which runs the theme's own logic (a dialog on narrow
      screens, a collapsing sidebar on wide ones). An open sidebar dialog gets a close button.
   3. Inline math and the punctuation that follows it stay on one line: after MathJax has
      typeset the page, each inline formula followed by ".", ",", ";", ":", "?", "!" or ")" is
      wrapped with that character in a `white-space: nowrap` span (class linnet-math-punct).
   4. Tables, and column-aligned printed output (class linnet-aligned), scroll inside their box
      when wider than the column; the box sits in a frame (class linnet-scroll-frame) whose
      edge shows a shadow while more is hidden on that side; a table's first column stays in
      place (linnet.css).
   5. Search results: Sphinx makes each excerpt from the text of the found page, which still
      holds the TeX source of its equations and the page's furniture (download buttons,
      "Contents", the "Run this chapter yourself" box). Those are removed before the excerpt is
      cut; each formula is replaced by its plain text (so that "Since , the product ..." keeps
      its formula); runs of white space are collapsed. A hit whose title repeats its page's
      title ("2. Balancedness > Balancedness") is listed once.
   6. The theme's expand buttons in the sidebar's table of contents (an icon in a <summary>)
      get an accessible name ("Sections of Beyond the paper"). */
(function () {
  "use strict";

  /* 1. Colour mode ------------------------------------------------------------------------ */
  var root = document.documentElement;
  var prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");
  if (root.dataset.theme !== "light" && root.dataset.theme !== "dark") {
    root.dataset.theme = prefersDark && prefersDark.matches ? "dark" : "light";
  }

  /* 2. Sidebar buttons -------------------------------------------------------------------- */
  var TOGGLES = { ".primary-toggle": "pst-primary-sidebar-modal",
                  ".secondary-toggle": "pst-secondary-sidebar-modal" };

  document.addEventListener(
    "click",
    function (event) {
      if (!event.target || !event.target.closest) return;
      Object.keys(TOGGLES).forEach(function (selector) {
        var button = event.target.closest(selector);
        var bound = document.querySelector(selector); // the button the theme listens to
        if (!button || !bound || button === bound) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        bound.click();
        var dialog = document.getElementById(TOGGLES[selector]);
        if (dialog && dialog.open) addCloseButton(dialog);
      });
    },
    true
  );

  function addCloseButton(dialog) {
    if (!dialog.linnetClose) {
      // After the theme has moved the sidebar's content back (its listener came first).
      dialog.addEventListener("close", function () {
        document.querySelectorAll(".linnet-dialog-close").forEach(function (el) {
          el.remove();
        });
      });
      dialog.linnetClose = true;
    }
    if (dialog.querySelector(".linnet-dialog-close")) return;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "linnet-dialog-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () {
      dialog.close();
    });
    dialog.insertBefore(close, dialog.firstChild);
  }

  /* 3. Inline math and its punctuation ------------------------------------------------------ */
  var PUNCT = /^[.,;:?!)\u2019\u201d]+/;

  function keepPunctuationWithMath(scope) {
    scope.querySelectorAll('mjx-container:not([display="true"])').forEach(function (math) {
      // Sphinx's <span class="math"> holds the formula; the punctuation follows that span.
      var item = math.parentNode;
      if (!item || !item.classList || !item.classList.contains("math") ||
          item.childElementCount !== 1) item = math;
      var parent = item.parentNode;
      if (!parent || parent.classList.contains("linnet-math-punct")) return;
      if (item.closest("pre, .linnet-widgets")) return;
      var next = item.nextSibling;
      if (!next || next.nodeType !== Node.TEXT_NODE) return;
      var found = PUNCT.exec(next.data);
      if (!found) return;
      var span = document.createElement("span");
      span.className = "linnet-math-punct";
      parent.insertBefore(span, item);
      span.appendChild(item);
      if (next.data.length > found[0].length) next.splitText(found[0].length);
      span.appendChild(next);
    });
  }

  var typesetDone = false;
  function afterMathJax() {
    if (typesetDone || !window.MathJax || !MathJax.startup || !MathJax.startup.promise) return;
    typesetDone = true;
    MathJax.startup.promise.then(function () {
      keepPunctuationWithMath(document.querySelector("article") || document.body);
      document.documentElement.classList.add("linnet-math-ready");
    });
  }

  /* 4. Wide tables and column-aligned output ------------------------------------------------ */
  function scrollCue(frame) {
    var box = frame.firstElementChild;
    if (!box) return;
    var more = box.scrollWidth - box.clientWidth - box.scrollLeft > 1;
    frame.classList.toggle("linnet-scroll-more", more);
    frame.classList.toggle("linnet-scroll-moved", box.scrollLeft > 1);
    var first = box.querySelector("tr > :first-child");
    if (first) frame.style.setProperty("--linnet-sticky-width", first.offsetWidth + "px");
  }

  function frameScrollBox(box) {
    if (box.parentNode.classList.contains("linnet-scroll-frame")) return;
    var frame = document.createElement("div");
    frame.className = "linnet-scroll-frame";
    box.parentNode.insertBefore(frame, box);
    frame.appendChild(box);
    box.classList.add("linnet-scroll-box");
    box.addEventListener("scroll", function () {
      scrollCue(frame);
    }, { passive: true });
  }

  // A printed table: several lines, at least two with runs of spaces between columns.
  var ALIGNED = /\S {2,}\S/;

  function frameWideContent() {
    var article = document.querySelector("article");
    if (!article) return;
    article.querySelectorAll("table").forEach(function (table) {
      if (table.closest(".linnet-widgets, td, th")) return;
      var box = table.parentNode;
      if (!box.classList.contains("pst-scrollable-table-container")) {
        box = document.createElement("div");
        table.parentNode.insertBefore(box, table);
        box.appendChild(table);
      }
      frameScrollBox(box);
      // A cell of one token ("8.8e-05", "1.58×") never breaks (browsers break after "-").
      table.querySelectorAll("td, th").forEach(function (cell) {
        var text = cell.textContent.trim();
        if (text && !/\s/.test(text) && text.length <= 24) cell.classList.add("linnet-token");
      });
    });
    article.querySelectorAll("div.cell_output div.highlight pre").forEach(function (pre) {
      var lines = pre.textContent.split("\n").filter(function (line) {
        return ALIGNED.test(line);
      });
      if (lines.length < 2) return;
      pre.classList.add("linnet-aligned");
      frameScrollBox(pre);
    });
    updateCues();
  }

  function updateCues() {
    document.querySelectorAll(".linnet-scroll-frame").forEach(scrollCue);
  }

  /* 5. Search results --------------------------------------------------------------------- */
  var FURNITURE = [
    "script",
    "style",
    ".headerlink",
    ".eqno",
    ".bd-header-article",
    ".header-article-items",
    ".article-header-buttons",
    ".bd-toc",
    "#pst-secondary-sidebar",
    ".prev-next-area",
    ".cell_input",
    ".linnet-widgets",
    '[class*="linnet-run"]',
    ".onlyprint",
    "#jb-print-docs-body",
    "nav",
  ].join(",");

  /* The TeX source of a formula as short plain text: "W_{1:N}^\top x" -> "W1:N⊤ x". */
  var SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε",
    eta: "η", theta: "θ", lambda: "λ", mu: "μ", nu: "ν", rho: "ρ", sigma: "σ", tau: "τ",
    phi: "φ", psi: "ψ", omega: "ω", Delta: "Δ", Sigma: "Σ", Lambda: "Λ", Omega: "Ω",
    ell: "ℓ", top: "ᵀ", cdot: "·", times: "×", le: "≤", leq: "≤", ge: "≥", geq: "≥",
    ne: "≠", neq: "≠", approx: "≈", to: "→", rightarrow: "→", infty: "∞", sum: "∑",
    prod: "∏", in: "∈", nabla: "∇", partial: "∂", odot: "⊙", otimes: "⊗", dots: "…",
    ldots: "…", cdots: "⋯", quad: " ", qquad: " ", sqrt: "√", mid: "|", lVert: "‖",
    rVert: "‖", Vert: "‖", langle: "⟨", rangle: "⟩",
  };

  function texToText(tex) {
    return tex
      .replace(/^\s*(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)\s*$/g, "")
      .replace(/\\(?:begin|end)\{[a-z*]+\}/g, " ")
      .replace(/\\(?:mathrm|mathbf|mathcal|mathbb|operatorname|text|textrm|boldsymbol)\b/g, "")
      .replace(/\\(?:left|right|big|Big|bigg|Bigg)\b/g, "")
      .replace(/\\([A-Za-z]+)/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(SYMBOLS, name) ? SYMBOLS[name] : name;
      })
      .replace(/\\[,;:! ]/g, " ")
      .replace(/\\\\|&/g, " ")
      .replace(/[{}]|\\/g, "")
      .replace(/\^(?=ᵀ)/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }

  function mathAsText(doc) {
    doc.querySelectorAll("mjx-container").forEach(function (el) {
      el.remove();
    });
    doc.querySelectorAll(".math").forEach(function (el) {
      var display = el.tagName === "DIV";
      var text = doc.createTextNode(texToText(el.textContent));
      if (display) {
        el.replaceWith(doc.createTextNode(" "), text, doc.createTextNode(" "));
      } else {
        el.replaceWith(text);
      }
    });
  }

  function patchSearch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.linnet) return;
    var original = Search.htmlToText;
    var plain = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(FURNITURE).forEach(function (el) {
        el.remove();
      });
      mathAsText(doc);
      return original(doc.documentElement.outerHTML, anchor).replace(/\s+/g, " ");
    };
    plain.linnet = true;
    Search.htmlToText = plain;
  }

  /* "2. Balancedness > Balancedness": a page's title is indexed twice, with its number
     ("titles") and without it ("alltitles", pointing at the page itself), and the search
     lists both. The second entry is dropped; the page is still found by its title's words. */
  function stripTags(html) {
    return html.replace(/<[^>]*>/g, "").replace(/^\s*[\d.]+\s+/, "").trim();
  }

  function dedupeTitles(index) {
    if (!index || !index.alltitles || !index.titles || index.linnetDeduped) return;
    Object.keys(index.alltitles).forEach(function (title) {
      var kept = index.alltitles[title].filter(function (hit) {
        return !(hit[1] === null && stripTags(index.titles[hit[0]] || "") === title.trim());
      });
      if (kept.length) index.alltitles[title] = kept;
      else delete index.alltitles[title];
    });
    index.linnetDeduped = true;
  }

  function patchIndex() {
    if (typeof Search === "undefined" || !Search.setIndex) return;
    if (Search._index) dedupeTitles(Search._index);
    if (Search.setIndex.linnet) return;
    var setIndex = Search.setIndex;
    Search.setIndex = function (index) {
      dedupeTitles(index);
      return setIndex(index);
    };
    Search.setIndex.linnet = true;
  }

  /* 6. The sidebar's expand buttons (a <summary> holding only an icon) get a name. */
  function nameTocToggles() {
    document.querySelectorAll("li.has-children > details > summary").forEach(function (summary) {
      if (summary.textContent.trim() || summary.hasAttribute("aria-label")) return;
      var link = summary.parentNode.parentNode.querySelector(":scope > a");
      var title = link ? link.textContent.trim() : "this part";
      summary.setAttribute("aria-label", "Sections of " + title);
    });
  }

  patchSearch();
  document.addEventListener("DOMContentLoaded", function () {
    nameTocToggles();
    patchSearch();
    patchIndex();
    frameWideContent();
    afterMathJax();
  });
  window.addEventListener("load", function () {
    afterMathJax();
    updateCues();
  });
  window.addEventListener("resize", updateCues);
})();
