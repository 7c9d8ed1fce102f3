/* Book-wide script (Jupyter Book loads every .js of _static/ on every page).
   Search results: Sphinx makes each excerpt from the text of the found page, which still holds
   the TeX source of its equations and the page's furniture (download buttons, "Contents").
   Those are removed before the excerpt is cut, and runs of white space are collapsed. */
(function () {
  "use strict";
  var FURNITURE = [
    ".math",
    "mjx-container",
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
    ".onlyprint",
    "#jb-print-docs-body",
    "nav",
  ].join(",");

  function patchSearch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.linnet) return;
    var original = Search.htmlToText;
    var plain = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(FURNITURE).forEach(function (el) {
        el.remove();
      });
      return original(doc.documentElement.outerHTML, anchor).replace(/\s+/g, " ");
    };
    plain.linnet = true;
    Search.htmlToText = plain;
  }

  patchSearch();
  document.addEventListener("DOMContentLoaded", patchSearch);
})();
