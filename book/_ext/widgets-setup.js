/* Loaded between require.js and the ipywidgets HTML manager (see nb_ipywidgets_js in
   _config.yml); copied to vendor/ by `make assets`.
   1. Point RequireJS at the self-hosted manager, so that its icon fonts load from this site.
   2. The manager typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue); this book
      uses MathJax 3, so map that call onto MathJax 3's typesetPromise.
   3. Give slider handles an accessible name taken from the slider's visible label. */
(function () {
  var here = document.currentScript.src;
  var base = here.substring(0, here.lastIndexOf("/") + 1);
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": base + "html-manager" } });

  function installMathJax2Shim() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element && mj.typesetPromise && mj.startup) {
          mj.startup.promise.then(function () { return mj.typesetPromise([element]); });
        }
      },
    };
  }

  function labelSliders(root) {
    root.querySelectorAll(".widget-slider, .widget-hslider").forEach(function (slider) {
      var label = slider.querySelector(".widget-label");
      var name = label ? label.textContent.trim() : "";
      slider.querySelectorAll('[role="slider"]').forEach(function (handle) {
        if (name && !handle.getAttribute("aria-label")) handle.setAttribute("aria-label", name);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    installMathJax2Shim();
    labelSliders(document);
    new MutationObserver(function () { labelSliders(document); }).observe(document.body, {
      childList: true,
      subtree: true,
    });
  });
})();
