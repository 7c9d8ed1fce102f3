/* A small renderer for the book's saved ipywidgets (replaces the 3.6 MB ipywidgets HTML
   manager and RequireJS). Copied to vendor/ by `make assets`; wired with nb_ipywidgets_js in
   _config.yml, so that it loads only on pages that hold widgets.

   It reads the page's widget state (script type="application/vnd.jupyter.widget-state+json")
   and renders every view (script type="application/vnd.jupyter.widget-view+json") as plain,
   accessible HTML: boxes, sliders (<input type="range"> with a visible label and a readout),
   dropdowns (<select>), toggle buttons, labels, HTML, stacks, tabs and accordions (one child
   shown, built only when first shown: an explorer fetches only the frames the reader
   looks at) and Output widgets. Client-side links (jslink / jsdlink) run. A model it does not
   know becomes a short note; nothing is logged to the console. */
(function () {
  "use strict";

  var PREFIX = "IPY_MODEL_";
  var counter = 0;

  function ref(value) {
    return typeof value === "string" && value.indexOf(PREFIX) === 0
      ? value.slice(PREFIX.length)
      : null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function Models(state) {
    this.state = state || {};
    this.listeners = {};
  }
  Models.prototype.model = function (id) {
    return this.state[id] || null;
  };
  Models.prototype.get = function (id, key) {
    var m = this.model(id);
    return m && m.state ? m.state[key] : undefined;
  };
  Models.prototype.set = function (id, key, value) {
    var m = this.model(id);
    if (!m || !m.state || m.state[key] === value) return;
    m.state[key] = value;
    (this.listeners[id + "/" + key] || []).forEach(function (fn) {
      fn(value);
    });
  };
  Models.prototype.on = function (id, key, fn) {
    var k = id + "/" + key;
    (this.listeners[k] = this.listeners[k] || []).push(fn);
  };
  Models.prototype.link = function () {
    var self = this;
    Object.keys(this.state).forEach(function (id) {
      var m = self.state[id];
      var name = m.model_name;
      if (name !== "LinkModel" && name !== "DirectionalLinkModel") return;
      var s = m.state.source || [];
      var t = m.state.target || [];
      var sid = ref(s[0]);
      var tid = ref(t[0]);
      if (!sid || !tid || !self.model(sid) || !self.model(tid)) return;
      self.on(sid, s[1], function (v) {
        self.set(tid, t[1], v);
      });
      if (name === "LinkModel") {
        self.on(tid, t[1], function (v) {
          self.set(sid, s[1], v);
        });
      }
      self.set(tid, t[1], self.get(sid, s[1]));
    });
  };

  function label(text, forId) {
    var node = el("label", "linnet-widget-label", text);
    if (forId) node.htmlFor = forId;
    return node;
  }

  function formatNumber(value, format) {
    if (typeof value !== "number") return String(value);
    var m = /\.(\d+)([fe%])?$/.exec(format || "");
    if (m && m[2] === "e") return value.toExponential(Number(m[1]));
    if (m) return value.toFixed(Number(m[1]));
    if (format === "d") return String(Math.round(value));
    return String(Number(value.toPrecision(6)));
  }

  // Sliders: one <input type="range"> over an integer or float range, the options of a
  // selection slider, or the exponent of a log slider.
  function slider(models, id, m) {
    var s = m.state;
    var name = m.model_name;
    var input = el("input", "linnet-widget-range");
    var inputId = "linnet-widget-" + ++counter;
    input.type = "range";
    input.id = inputId;
    var key = "value";
    var shown;
    if (name === "SelectionSliderModel") {
      key = "index";
      var labels = s._options_labels || [];
      input.min = 0;
      input.max = Math.max(labels.length - 1, 0);
      input.step = 1;
      shown = function (v) {
        return labels[v] !== undefined ? labels[v] : String(v);
      };
    } else if (name === "FloatLogSliderModel") {
      var base = s.base || 10;
      input.min = s.min;
      input.max = s.max;
      input.step = s.step || "any";
      shown = function (v) {
        return formatNumber(v, s.readout_format || ".3g");
      };
      input.value = Math.log(s.value) / Math.log(base);
      input.addEventListener("input", function () {
        models.set(id, "value", Math.pow(base, Number(input.value)));
      });
    } else {
      input.min = s.min;
      input.max = s.max;
      input.step = s.step || 1;
      shown = function (v) {
        return formatNumber(v, s.readout_format || (name === "IntSliderModel" ? "d" : ".2f"));
      };
    }
    var box = el("div", "linnet-widget linnet-widget-slider");
    var readout = el("output", "linnet-widget-readout");
    readout.htmlFor = inputId;
    input.disabled = !!s.disabled;
    function show(v) {
      if (name !== "FloatLogSliderModel") input.value = v;
      var text = shown(v);
      readout.textContent = text;
      input.setAttribute("aria-valuetext", text);
    }
    if (name !== "FloatLogSliderModel") {
      input.addEventListener("input", function () {
        models.set(id, key, Number(input.value));
      });
    }
    models.on(id, key, show);
    show(s[key]);
    box.appendChild(label(s.description || "value", inputId));
    box.appendChild(input);
    if (s.readout !== false) box.appendChild(readout);
    return box;
  }

  function dropdown(models, id, m) {
    var s = m.state;
    var box = el("div", "linnet-widget linnet-widget-dropdown");
    var select = el("select", "linnet-widget-select");
    select.id = "linnet-widget-" + ++counter;
    (s._options_labels || []).forEach(function (text, i) {
      var option = el("option", null, text);
      option.value = String(i);
      select.appendChild(option);
    });
    select.disabled = !!s.disabled;
    select.addEventListener("change", function () {
      models.set(id, "index", Number(select.value));
    });
    function show(v) {
      select.value = String(v);
    }
    models.on(id, "index", show);
    show(s.index);
    box.appendChild(label(s.description || "choice", select.id));
    box.appendChild(select);
    return box;
  }

  function toggleButtons(models, id, m) {
    var s = m.state;
    var box = el("div", "linnet-widget linnet-widget-toggles");
    var group = el("div", "linnet-widget-toggle-group");
    group.setAttribute("role", "group");
    var name = el("span", "linnet-widget-label", s.description || "");
    name.id = "linnet-widget-" + ++counter;
    group.setAttribute("aria-labelledby", name.id);
    var buttons = (s._options_labels || []).map(function (text, i) {
      var button = el("button", "linnet-widget-toggle", text);
      button.type = "button";
      button.addEventListener("click", function () {
        models.set(id, "index", i);
      });
      group.appendChild(button);
      return button;
    });
    function show(v) {
      buttons.forEach(function (b, i) {
        b.setAttribute("aria-pressed", i === v ? "true" : "false");
      });
    }
    models.on(id, "index", show);
    show(s.index);
    box.appendChild(name);
    box.appendChild(group);
    return box;
  }

  function typeset(node) {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
      mj.startup.promise.then(function () {
        return mj.typesetPromise([node]);
      });
    }
  }

  function outputArea(outputs) {
    var box = el("div", "linnet-widget linnet-widget-output");
    (outputs || []).forEach(function (out) {
      var data = out.data || {};
      if (out.output_type === "stream") {
        box.appendChild(el("pre", "linnet-widget-stream", out.text));
      } else if (data["text/html"]) {
        var div = el("div");
        div.innerHTML = [].concat(data["text/html"]).join("");
        box.appendChild(div);
      } else if (data["image/png"]) {
        var img = el("img");
        img.src = "data:image/png;base64," + data["image/png"];
        img.alt = [].concat(data["text/plain"] || "Figure").join("");
        img.loading = "lazy";
        box.appendChild(img);
      } else if (data["text/plain"]) {
        box.appendChild(el("pre", null, [].concat(data["text/plain"]).join("")));
      }
    });
    return box;
  }

  // A container of children of which one is shown (Stack, Tab, Accordion); a child is built
  // when it is first shown, so that its pictures are fetched only then.
  function selector(models, id, m, render) {
    var s = m.state;
    var box = el("div", "linnet-widget linnet-widget-stack");
    var kids = (s.children || []).map(ref);
    var built = {};
    var titles = s.titles || [];
    var tabs = null;
    if (m.model_name !== "StackModel" && titles.some(Boolean)) {
      tabs = el("div", "linnet-widget-toggle-group");
      tabs.setAttribute("role", "group");
      titles.forEach(function (title, i) {
        var b = el("button", "linnet-widget-toggle", title || String(i + 1));
        b.type = "button";
        b.addEventListener("click", function () {
          models.set(id, "selected_index", i);
        });
        tabs.appendChild(b);
      });
      box.appendChild(tabs);
    }
    function show(index) {
      kids.forEach(function (kid, i) {
        if (i === index && !built[i]) {
          built[i] = render(kid);
          box.appendChild(built[i]);
        }
        if (built[i]) built[i].hidden = i !== index;
        if (tabs) tabs.children[i].setAttribute("aria-pressed", i === index ? "true" : "false");
      });
    }
    models.on(id, "selected_index", show);
    show(s.selected_index === null || s.selected_index === undefined ? 0 : s.selected_index);
    return box;
  }

  function unknown(name) {
    return el(
      "p",
      "linnet-widget linnet-widget-unknown",
      "(An interactive control" + (name ? " (" + name.replace(/Model$/, "") + ")" : "") +
        " that works when the notebook runs in Jupyter.)"
    );
  }

  function renderer(models) {
    return function render(id) {
      var m = models.model(id);
      if (!m) return unknown("");
      var s = m.state || {};
      var node;
      switch (m.model_name) {
        case "VBoxModel":
        case "HBoxModel":
        case "BoxModel":
        case "GridBoxModel":
          node = el("div", "linnet-widget linnet-widget-" + (m.model_name === "HBoxModel" ? "hbox" : "vbox"));
          (s.children || []).forEach(function (kid) {
            node.appendChild(render(ref(kid)));
          });
          break;
        case "IntSliderModel":
        case "FloatSliderModel":
        case "FloatLogSliderModel":
        case "SelectionSliderModel":
          node = slider(models, id, m);
          break;
        case "DropdownModel":
        case "SelectModel":
        case "RadioButtonsModel":
          node = dropdown(models, id, m);
          break;
        case "ToggleButtonsModel":
          node = toggleButtons(models, id, m);
          break;
        case "LabelModel":
          node = el("span", "linnet-widget linnet-widget-text", s.value);
          models.on(id, "value", function (v) {
            node.textContent = v;
          });
          break;
        case "HTMLModel":
        case "HTMLMathModel":
          node = el("div", "linnet-widget linnet-widget-html");
          node.innerHTML = s.value || "";
          if (m.model_name === "HTMLMathModel") typeset(node);
          break;
        case "StackModel":
        case "TabModel":
        case "AccordionModel":
          node = selector(models, id, m, render);
          break;
        case "OutputModel":
          node = outputArea(s.outputs);
          break;
        default:
          node = unknown(m.model_name);
      }
      (s._dom_classes || []).forEach(function (c) {
        node.classList.add(c);
      });
      return node;
    };
  }

  function start() {
    var state = {};
    document
      .querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')
      .forEach(function (script) {
        try {
          var parsed = JSON.parse(script.textContent);
          Object.assign(state, parsed.state || {});
        } catch (e) {
          /* a malformed state leaves the views' notes below */
        }
      });
    var models = new Models(state);
    models.link();
    var render = renderer(models);
    document
      .querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')
      .forEach(function (script) {
        var view = null;
        try {
          view = JSON.parse(script.textContent);
        } catch (e) {
          view = null;
        }
        var node = view && view.model_id ? render(view.model_id) : unknown("");
        var panel = el("div", "linnet-widgets");
        panel.appendChild(node);
        script.parentNode.insertBefore(panel, script.nextSibling);
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
