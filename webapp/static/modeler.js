// The modeler pages (webapp/views/modeler.py): the editor, where bpmn-js's Modeler draws the diagram and our own
// properties panel edits what the engine uses (forms, scripts, conditions, operators, lanes, timers, messages,
// call targets, due dates), or dmn-js edits a decision table; and the comparison of two versions, drawn with
// bpmn-js's viewer. No inline script (CSP): the page hands over its URLs as data attributes and its words as
// <script type="application/json" id="modeler-texts">. The editor exposes its modeler as window.erpModeler.
(function () {
  "use strict";

  var texts = readJson("modeler-texts") || {};

  // ------------------------------------------------------------------ small helpers

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function t(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    });
    return text;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function postJson(url, body) {
    return window.fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body || {}),
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function fetchText(url) {
    return window.fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    });
  }

  function fetchJson(url) {
    return fetchText(url).then(function (text) { return JSON.parse(text); });
  }

  function errorMessage(result) {
    return (result.data && result.data.error && result.data.error.message) || t("request_failed");
  }

  // el("div", {class: "x", text: "y"}, [children]): a DOM element without innerHTML (names come from diagrams)
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) { return; }
      if (name === "text") { node.textContent = value; } else if (name === "class") { node.className = value; } else {
        node.setAttribute(name, value === true ? "" : value);
      }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function is(businessObject, type) {
    return Boolean(businessObject && businessObject.$instanceOf && businessObject.$instanceOf(type));
  }

  // Halt: a failure already shown to the user; the next steps of the chain stop quietly
  function Halt() {}

  // ------------------------------------------------------------------ the editor

  var editorRoot = document.getElementById("modeler");
  if (editorRoot) { startEditor(editorRoot); }
  var compareRoot = document.getElementById("compare");
  if (compareRoot) { startCompare(compareRoot); }

  function startEditor(root) {
    var data = root.dataset;
    var isBpmn = data.kind === "bpmn";
    var canvasElement = document.getElementById("canvas");
    var statusElement = document.getElementById("save-status");
    var state = { lockVersion: parseInt(data.lockVersion, 10), dirty: false, changes: 0, saving: null,
                  modeler: null, lintRound: 0, lintTimer: null, problemIds: [], lintIds: [] };

    function showStatus(message, tone) {
      statusElement.textContent = message;
      statusElement.className = "small text-" + (tone || "muted");
    }

    function markDirty() {
      state.changes += 1;
      state.dirty = true;
      showStatus(t("unsaved"), "warning");
    }

    function exportXml() {
      return state.modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
    }

    // One save at a time: a second one sent with the same lock version would be refused as a conflict with
    // ourselves. A save asked for while another is on its way waits for it, then saves what is still unsaved.
    function save() {
      if (state.saving) {
        return state.saving.catch(function () {}).then(function () { return state.dirty ? save() : undefined; });
      }
      var round = state.changes;
      var pending = exportXml().then(function (xml) {
        return postJson(data.saveUrl, { xml: xml, lock_version: state.lockVersion });
      }).then(function (result) {
        if (!result.ok) {
          showStatus(errorMessage(result), result.status === 409 ? "danger" : "warning");
          throw new Halt();
        }
        state.lockVersion = result.data.lock_version;
        root.dataset.lockVersion = String(state.lockVersion);
        state.dirty = state.changes !== round;  // edits made while saving stay unsaved
        if (state.dirty) { showStatus(t("unsaved"), "warning"); return; }
        showStatus(t("saved", { time: new Date().toLocaleTimeString() }), "success");
      });
      var done = function () { if (state.saving === pending) { state.saving = null; } };
      state.saving = pending;
      pending.then(done, done);
      return pending;
    }

    function saveIfChanged() { return state.dirty ? save() : Promise.resolve(); }

    function failed(error) {
      if (!(error instanceof Halt)) { showStatus(t("request_failed") + " " + (error && error.message || ""), "danger"); }
    }

    function busy(button, promise) {
      button.disabled = true;
      return promise.catch(failed).then(function () { button.disabled = false; });
    }

    // -------------------------------------------------- validation problems and lint findings on the diagram

    function registryOf() {
      return isBpmn ? state.modeler.get("elementRegistry") : null;
    }

    function elementLabel(id) {
      var registry = registryOf();
      var element = id && registry ? registry.get(id) : null;
      var name = element && element.businessObject && element.businessObject.name;
      return name ? name + " (" + id + ")" : (id || "");
    }

    function selectElement(id) {
      var registry = registryOf();
      var element = id && registry ? registry.get(id) : null;
      if (!element) { return; }
      state.modeler.get("selection").select(element);
      state.modeler.get("canvas").scrollToElement(element);
    }

    function clearMarks(ids, marker, overlayType) {
      if (!isBpmn) { return; }
      var canvas = state.modeler.get("canvas");
      ids.forEach(function (id) { if (registryOf().get(id)) { canvas.removeMarker(id, marker); } });
      state.modeler.get("overlays").remove({ type: overlayType });
    }

    function mark(id, marker, overlayType, text, tone) {
      if (!isBpmn || !id || !registryOf().get(id)) { return false; }
      state.modeler.get("canvas").addMarker(id, marker);
      state.modeler.get("overlays").add(id, overlayType, {
        position: { top: -10, right: overlayType === "erp-problem" ? 10 : 30 },
        html: el("span", { class: "erp-badge erp-badge-" + tone, title: text, text: "!" })
      });
      return true;
    }

    function listItem(className, id, parts, onClick) {
      var item = el("li", { class: "list-group-item list-group-item-action small " + className,
                            "data-element-id": id || "" }, parts);
      if (id) { item.addEventListener("click", function () { onClick(id); }); item.setAttribute("role", "button"); }
      return item;
    }

    function showProblems(problems, heading) {
      var list = document.getElementById("problems");
      var summary = document.getElementById("problems-summary");
      clearMarks(state.problemIds, "erp-problem", "erp-problem");
      state.problemIds = [];
      list.replaceChildren();
      problems.forEach(function (problem) {
        if (mark(problem.element_id, "erp-problem", "erp-problem", problem.message, "danger")) {
          state.problemIds.push(problem.element_id);
        }
        var where = [problem.file, problem.line ? t("line", { n: problem.line }) : ""].filter(Boolean).join(" · ");
        list.appendChild(listItem("problem-item text-danger", problem.element_id, [
          problem.element_id ? el("strong", { text: elementLabel(problem.element_id) + ": " }) : null,
          el("span", { class: "problem-message", text: problem.message }),
          el("div", { class: "text-muted", text: where })
        ], selectElement));
      });
      summary.className = "alert py-2 small " + (problems.length ? "alert-danger" : "alert-success");
      summary.textContent = heading || (problems.length ? t("problems_found", { n: problems.length }) : t("no_problems"));
      summary.hidden = false;
    }

    function showFindings(findings) {
      var list = document.getElementById("lint-findings");
      document.getElementById("lint-count").textContent = String(findings.length);
      clearMarks(state.lintIds, "erp-lint", "erp-lint");
      state.lintIds = [];
      list.replaceChildren();
      findings.forEach(function (finding) {
        var tone = finding.severity === "error" ? "danger" : "warning";
        if (mark(finding.element_id, "erp-lint", "erp-lint", finding.message + " " + finding.recommendation, tone)) {
          state.lintIds.push(finding.element_id);
        }
        var item = listItem("lint-item", finding.element_id, [
          finding.element_id ? el("strong", { text: elementLabel(finding.element_id) + ": " }) : null,
          el("span", { class: "text-" + tone, text: finding.message }),
          el("div", { class: "text-muted lint-recommendation", text: finding.recommendation })
        ], selectElement);
        item.setAttribute("data-rule", finding.rule);
        list.appendChild(item);
      });
      if (!findings.length) { list.appendChild(el("li", { class: "list-group-item small text-muted", text: t("no_findings") })); }
    }

    function lintSoon(delay) {
      if (!isBpmn) { return; }
      window.clearTimeout(state.lintTimer);
      state.lintTimer = window.setTimeout(runLint, delay === undefined ? 800 : delay);
    }

    function runLint() {
      var round = ++state.lintRound;
      exportXml().then(function (xml) {
        return postJson(data.lintUrl, { xml: xml, file_name: data.fileName });
      }).then(function (result) {
        if (round !== state.lintRound) { return; }  // a newer edit is being checked already
        if (result.ok) { showFindings(result.data.findings || []); }
        root.dataset.linted = String(round);
      }).catch(function () { /* lint is advice: a failed round is simply retried on the next edit */ });
    }

    // -------------------------------------------------- the buttons

    function validate() {
      return saveIfChanged().then(function () { return postJson(data.validateUrl, {}); }).then(function (result) {
        if (!result.ok) { showStatus(errorMessage(result), "danger"); throw new Halt(); }
        showProblems(result.data.problems || []);
      });
    }

    function deploy() {
      var comment = document.getElementById("deploy-comment");
      var feedback = document.getElementById("deploy-comment-feedback");
      if (!comment.value.trim()) {
        comment.classList.add("is-invalid");
        feedback.textContent = t("comment_required");
        return Promise.resolve();
      }
      comment.classList.remove("is-invalid");
      return saveIfChanged().then(function () {
        return postJson(data.deployUrl, { comment: comment.value.trim() });
      }).then(function (result) {
        if (result.ok) { window.location.assign(result.data.redirect); return; }
        var error = (result.data && result.data.error) || {};
        if (error.field === "comment") {
          comment.classList.add("is-invalid");
          feedback.textContent = error.message;
        }
        showStatus(errorMessage(result), "danger");
        if (error.problems) { showProblems(error.problems, error.message); }
      });
    }

    function wireButtons() {
      var saveButton = document.getElementById("save-draft");
      var validateButton = document.getElementById("validate");
      saveButton.addEventListener("click", function () { busy(saveButton, save()); });
      validateButton.addEventListener("click", function () { busy(validateButton, validate()); });
      var openDeploy = document.getElementById("deploy-open");
      if (openDeploy) {
        openDeploy.addEventListener("click", function () {
          var form = document.getElementById("deploy-form");
          form.hidden = !form.hidden;
          if (!form.hidden) { document.getElementById("deploy-comment").focus(); }
        });
        var deployButton = document.getElementById("deploy-button");
        deployButton.addEventListener("click", function () { busy(deployButton, deploy()); });
      }
      var compareLink = document.getElementById("compare-link");
      if (compareLink) {
        compareLink.addEventListener("click", function (event) {
          event.preventDefault();
          saveIfChanged().then(function () { window.location.assign(compareLink.href); }).catch(failed);
        });
      }
      window.addEventListener("beforeunload", function (event) {
        if (state.dirty) { event.preventDefault(); event.returnValue = ""; }
      });
    }

    // -------------------------------------------------- opening the diagram

    function openBpmn() {
      return Promise.all([
        fetchJson(data.moddleUrl), fetchText(data.sourceUrl),
        fetchJson(data.catalogUrl).catch(function () { return {}; })
      ]).then(function (loaded) {
        var modeler = new window.BpmnJS({ container: canvasElement, moddleExtensions: { spiffworkflow: loaded[0] } });
        state.modeler = modeler;
        window.erpModeler = modeler;
        return modeler.importXML(loaded[1]).then(function () {
          modeler.get("canvas").zoom("fit-viewport", "auto");
          var panel = propertiesPanel(modeler, document.getElementById("properties"), loaded[2], data.checkUrl);
          modeler.on("selection.changed", function (event) { panel.show(event.newSelection[0]); });
          modeler.on("commandStack.changed", function () { markDirty(); lintSoon(); });
          panel.show(null);
          lintSoon(0);
        });
      });
    }

    function openDmn() {
      return fetchText(data.sourceUrl).then(function (xml) {
        var dmn = new window.DmnJS({ container: canvasElement });
        state.modeler = dmn;
        window.erpModeler = dmn;
        var watched = [];
        function watchActiveViewer() {
          var viewer = dmn.getActiveViewer();
          if (viewer && watched.indexOf(viewer) < 0) {
            watched.push(viewer);
            viewer.on("commandStack.changed", markDirty);
          }
        }
        dmn.on("views.changed", watchActiveViewer);
        return dmn.importXML(xml).then(function () {
          var table = dmn.getViews().filter(function (view) { return view.type === "decisionTable"; })[0];
          return table ? dmn.open(table) : null;
        }).then(watchActiveViewer);
      });
    }

    wireButtons();
    (isBpmn ? openBpmn() : openDmn()).then(function () {
      root.dataset.ready = "true";
      showStatus(t("loaded"), "muted");
    }).catch(function (error) {
      showStatus(t("load_failed") + " " + (error && error.message || ""), "danger");
    });
  }

  // ------------------------------------------------------------------ the properties panel

  function propertiesPanel(modeler, container, catalog, checkUrl) {
    var modeling = modeler.get("modeling");
    var moddle = modeler.get("moddle");
    var bpmnFactory = modeler.get("bpmnFactory");
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    var current = null;
    catalog = catalog || {};

    function show(element) {
      current = element || canvas.getRootElement();
      render();
    }

    // a change made elsewhere (the canvas, undo) shows at once, unless the person is typing in the panel
    modeler.on("element.changed", function (event) {
      if (current && event.element === current && !container.contains(document.activeElement)) { render(); }
    });

    // ---------------------------------------- moddle helpers (every change goes through the command stack)

    function update(owner, properties) { modeling.updateModdleProperties(current, owner, properties); }

    function extensionOf(owner, type) {
      var values = owner.extensionElements ? owner.extensionElements.get("values") : [];
      return values.filter(function (value) { return is(value, type); })[0];
    }

    function addExtension(owner, child) {
      if (!owner.extensionElements) {
        update(owner, { extensionElements: moddle.create("bpmn:ExtensionElements", { values: [] }) });
      }
      var extensions = owner.extensionElements;
      child.$parent = extensions;
      update(extensions, { values: extensions.get("values").concat([child]) });
    }

    function removeExtension(owner, child) {
      var extensions = owner.extensionElements;
      var rest = extensions.get("values").filter(function (value) { return value !== child; });
      update(extensions, { values: rest });
      if (!rest.length) { update(owner, { extensionElements: undefined }); }
    }

    function bodyOf(owner, type) {
      var found = extensionOf(owner, type);
      return found ? found.value || "" : "";
    }

    function setBody(owner, type, value) {
      var found = extensionOf(owner, type);
      if (!value) { if (found) { removeExtension(owner, found); } return; }
      if (found) { update(found, { value: value }); } else { addExtension(owner, moddle.create(type, { value: value })); }
    }

    function propertyOf(owner, name) {
      var properties = extensionOf(owner, "spiffworkflow:Properties");
      var found = properties && properties.get("properties").filter(function (p) { return p.name === name; })[0];
      return found ? found.value || "" : "";
    }

    function setProperty(owner, name, value) {
      var properties = extensionOf(owner, "spiffworkflow:Properties");
      var list = properties ? properties.get("properties") : [];
      var found = list.filter(function (p) { return p.name === name; })[0];
      if (!value) {
        if (!found) { return; }
        var rest = list.filter(function (p) { return p !== found; });
        if (rest.length) { update(properties, { properties: rest }); } else { removeExtension(owner, properties); }
        return;
      }
      if (found) { update(found, { value: value }); return; }
      var created = moddle.create("spiffworkflow:Property", { name: name, value: value });
      if (!properties) {
        properties = moddle.create("spiffworkflow:Properties", { properties: [created] });
        created.$parent = properties;
        addExtension(owner, properties);
        return;
      }
      created.$parent = properties;
      update(properties, { properties: list.concat([created]) });
    }

    function expression(body) { return body ? moddle.create("bpmn:FormalExpression", { body: body }) : undefined; }

    function definitions() { return modeler.getDefinitions(); }

    function rootsOfType(type) {
      return definitions().get("rootElements").filter(function (root) { return is(root, type); });
    }

    function processKey() {
      var root = canvas.getRootElement().businessObject;
      if (is(root, "bpmn:Collaboration")) {
        var participant = root.get("participants")[0];
        return participant && participant.processRef ? participant.processRef.id : null;
      }
      return root.id;
    }

    // ---------------------------------------- field builders

    var fieldCount = 0;

    function field(label, control, help) {
      var id = control.id || ("prop-field-" + (++fieldCount));
      control.id = id;
      return el("div", { class: "mb-2" }, [
        el("label", { class: "form-label small mb-0", for: id, text: label }), control,
        help ? el("div", { class: "form-text", text: help }) : null
      ]);
    }

    function onCommit(control, commit) {
      control.addEventListener("change", function () { commit(control.value); });
    }

    function textInput(id, value, commit, options) {
      options = options || {};
      var input = el("input", { id: id, class: "form-control form-control-sm" + (options.code ? " font-monospace" : ""),
                                type: options.type || "text", value: value || "", placeholder: options.placeholder,
                                list: options.list });
      onCommit(input, commit);
      return input;
    }

    function textArea(id, value, commit, rows) {
      var area = el("textarea", { id: id, class: "form-control form-control-sm font-monospace", rows: String(rows || 4),
                                  spellcheck: "false" });
      area.value = value || "";
      onCommit(area, commit);
      return area;
    }

    function select(id, options, value, commit, emptyLabel) {
      var control = el("select", { id: id, class: "form-select form-select-sm" });
      var known = options.map(function (option) { return option.value; });
      if (emptyLabel !== undefined) { control.appendChild(el("option", { value: "", text: emptyLabel })); }
      if (value && known.indexOf(value) < 0) {
        control.appendChild(el("option", { value: value, text: t("unknown_value", { value: value }) }));
      }
      options.forEach(function (option) {
        control.appendChild(el("option", { value: option.value, text: option.label }));
      });
      control.value = value || "";
      onCommit(control, commit);
      return control;
    }

    function checkbox(id, label, checked, commit) {
      var box = el("input", { id: id, class: "form-check-input", type: "checkbox" });
      box.checked = Boolean(checked);
      box.addEventListener("change", function () { commit(box.checked); });
      return el("div", { class: "form-check mb-2" }, [box, el("label", { class: "form-check-label small", for: id, text: label })]);
    }

    function dataList(id, values) {
      return el("datalist", { id: id }, values.map(function (value) { return el("option", { value: value }); }));
    }

    // code with a "check syntax" button: compiled on the server through the engine's sandbox
    function codeField(id, label, value, commit, mode, options) {
      options = options || {};
      var control = options.singleLine ? textInput(id, value, commit, { code: true, list: options.list })
        : textArea(id, value, commit, options.rows);
      var result = el("div", { class: "small check-result", id: id + "-result" });
      var button = el("button", { type: "button", class: "btn btn-sm btn-outline-secondary mt-1", id: id + "-check",
                                  text: t("check_syntax") });
      button.addEventListener("click", function () {
        button.disabled = true;
        postJson(checkUrl, { source: control.value, mode: mode }).then(function (response) {
          var errors = response.ok ? response.data.errors || [] : [errorMessage(response)];
          result.className = "small check-result " + (errors.length ? "text-danger" : "text-success");
          result.textContent = errors.length ? errors.join("; ") : t("syntax_ok");
        }).catch(function () { result.textContent = t("request_failed"); }).then(function () { button.disabled = false; });
      });
      var wrapper = field(label, control, options.help);
      wrapper.appendChild(button);
      wrapper.appendChild(result);
      return wrapper;
    }

    function section(title, children) {
      return el("section", { class: "border-top pt-2 mt-2" },
                [el("h3", { class: "h6 text-secondary", text: title })].concat(children));
    }

    // "in N days / business days / hours" -> the expression our diagrams write
    function quickTime(id, apply) {
      var amount = el("input", { id: id + "-amount", type: "number", min: "1", value: "1", class: "form-control form-control-sm",
                                 style: "max-width: 5rem" });
      var unit = el("select", { id: id + "-unit", class: "form-select form-select-sm", style: "max-width: 9rem" }, [
        el("option", { value: "days", text: t("unit_days") }), el("option", { value: "workdays", text: t("unit_workdays") }),
        el("option", { value: "hours", text: t("unit_hours") }), el("option", { value: "minutes", text: t("unit_minutes") })
      ]);
      var button = el("button", { type: "button", id: id + "-apply", class: "btn btn-sm btn-outline-primary text-nowrap",
                                  text: t("apply") });
      button.addEventListener("click", function () {
        var n = Math.max(1, parseInt(amount.value, 10) || 1);
        apply(unit.value, n);
      });
      return el("div", { class: "d-flex gap-1 mb-2 align-items-center" },
                [el("span", { class: "small text-muted", text: t("in") }), amount, unit, button]);
    }

    // ---------------------------------------- sections by element type

    function general(bo) {
      var idInput = textInput("prop-id", bo.id, function (value) {
        value = value.trim();
        if (!/^[A-Za-z_][\w.-]*$/.test(value) || (value !== bo.id && registry.get(value))) {
          idInput.classList.add("is-invalid");
          return;
        }
        idInput.classList.remove("is-invalid");
        modeling.updateProperties(current, { id: value });
      });
      var children = [field(t("id"), idInput, t("id_help"))];
      if (is(bo, "bpmn:Lane")) {
        children.push(field(t("lane_group"), textInput("prop-name", bo.name, function (value) {
          modeling.updateProperties(current, { name: value || undefined });
        }, { list: "groups-list" }), t("lane_help")));
        children.push(dataList("groups-list", catalog.groups || []));
      } else if (!is(bo, "bpmn:Collaboration")) {
        children.push(field(t("name"), textInput("prop-name", bo.name, function (value) {
          modeling.updateProperties(current, { name: value || undefined });
        }), t("name_help")));
      }
      if (is(bo, "bpmn:Process")) {
        children.push(checkbox("prop-executable", t("executable"), bo.isExecutable, function (checked) {
          modeling.updateProperties(current, { isExecutable: checked });
        }));
      }
      return children;
    }

    function humanTask(bo) {
      var forms = (catalog.forms || []).map(function (form) { return { value: form.key, label: form.title + " (" + form.key + ")" }; });
      var groups = (catalog.groups || []).map(function (group) { return "'" + group + "'"; });
      return section(t("section_task"), [
        field(t("form"), select("prop-form", forms, propertyOf(bo, "formKey"), function (value) {
          setProperty(bo, "formKey", value);
        }, t("none"))),
        field(t("instructions"), textArea("prop-instructions", bodyOf(bo, "spiffworkflow:InstructionsForEndUser"), function (value) {
          setBody(bo, "spiffworkflow:InstructionsForEndUser", value);
        }, 3), t("instructions_help")),
        codeField("prop-candidate-groups", t("candidate_groups"), propertyOf(bo, "candidateGroups"), function (value) {
          setProperty(bo, "candidateGroups", value.trim());
        }, "eval", { singleLine: true, list: "quoted-groups-list", help: t("candidate_groups_help") }),
        dataList("quoted-groups-list", groups),
        codeField("prop-assignee", t("assignee"), propertyOf(bo, "assignee"), function (value) {
          setProperty(bo, "assignee", value.trim());
        }, "eval", { singleLine: true, help: t("assignee_help") }),
        codeField("prop-excluded", t("excluded_users"), propertyOf(bo, "excludedUsers"), function (value) {
          setProperty(bo, "excludedUsers", value.trim());
        }, "eval", { singleLine: true, help: t("excluded_help") })
      ]);
    }

    function dueAndEscalation(bo) {
      var due = codeField("prop-due", t("due_date"), propertyOf(bo, "dueDate"), function (value) {
        setProperty(bo, "dueDate", value.trim());
      }, "eval", { singleLine: true, help: t("due_help") });
      var quick = quickTime("prop-due-quick", function (unit, n) {
        var value = { days: "'P" + n + "D'", workdays: "add_workdays(" + n + ")", hours: "'PT" + n + "H'",
                      minutes: "'PT" + n + "M'" }[unit];
        setProperty(bo, "dueDate", value);
        render();
      });
      var priority = codeField("prop-priority", t("priority"), propertyOf(bo, "priority"), function (value) {
        setProperty(bo, "priority", value.trim());
      }, "eval", { singleLine: true, help: t("priority_help") });
      var timerButton = el("button", { type: "button", id: "add-boundary-timer", class: "btn btn-sm btn-outline-secondary",
                                       text: t("add_boundary_timer") });
      timerButton.addEventListener("click", addBoundaryTimer);
      return section(t("section_due"), [due, quick, priority,
        el("p", { class: "small mb-1", id: "escalation-policy", text: policyText(bo.id) }),
        el("p", { class: "form-text", text: t("escalation_help") }), timerButton]);
    }

    function policyText(elementId) {
      var key = processKey();
      var rows = catalog.escalation || [];
      function find(processKeyWanted, elementWanted) {
        return rows.filter(function (row) {
          return row.process_key === processKeyWanted && row.element_id === elementWanted;
        })[0];
      }
      var policy = find(key, elementId) || find(key, null) || find(null, null);
      if (!policy) { return t("policy_default"); }
      if (!policy.enabled) { return t("policy_off"); }
      var parts = [t("policy_remind", { minutes: policy.remind_before_minutes }),
                   t("policy_overdue", { points: policy.raise_priority_by, levels: policy.max_level })];
      if (policy.notify_manager) { parts.push(t("policy_manager")); }
      if (policy.reassign_to) { parts.push(t("policy_reassign", { user: policy.reassign_to })); }
      return parts.join("; ");
    }

    function addBoundaryTimer() {
      var task = current;
      var shape = modeler.get("elementFactory").createShape({ type: "bpmn:BoundaryEvent",
                                                               eventDefinitionType: "bpmn:TimerEventDefinition" });
      shape.businessObject.cancelActivity = false;  // an escalation path runs beside the task, which stays open
      var created = modeling.createShape(shape, { x: task.x + task.width - 20, y: task.y + task.height }, task,
                                         { attach: true });
      modeler.get("selection").select(created);
    }

    function startEvent(bo) {
      var forms = (catalog.forms || []).map(function (form) { return { value: form.key, label: form.title + " (" + form.key + ")" }; });
      return section(t("section_start"), [
        field(t("start_form"), select("prop-form", forms, propertyOf(bo, "formKey"), function (value) {
          setProperty(bo, "formKey", value);
        }, t("none")), t("start_form_help"))
      ]);
    }

    function scriptTask(bo) {
      return section(t("section_script"), [codeField("prop-script", t("script"), bo.script, function (value) {
        modeling.updateProperties(current, { script: value || undefined });
      }, "exec", { rows: 8, help: t("script_help") })]);
    }

    function serviceTask(bo) {
      var operator = extensionOf(bo, "spiffworkflow:ServiceTaskOperator");
      var options = (catalog.operators || []).map(function (name) { return { value: name, label: name }; });
      var children = [field(t("operator"), select("prop-operator", options, operator ? operator.id : "", function (value) {
        if (!value) { if (operator) { removeExtension(bo, operator); } render(); return; }
        if (operator) { update(operator, { id: value }); render(); return; }
        var parameters = moddle.create("spiffworkflow:Parameters", { parameters: [] });
        var created = moddle.create("spiffworkflow:ServiceTaskOperator", { id: value, parameterList: parameters });
        parameters.$parent = created;
        addExtension(bo, created);
        render();
      }, t("none")), t("operator_help"))];
      if (operator) {
        children.push(field(t("result_variable"), textInput("prop-result-variable", operator.resultVariable, function (value) {
          update(operator, { resultVariable: value.trim() || undefined });
        }, { code: true })));
        children.push(operatorParameters(operator));
      }
      return section(t("section_service"), children);
    }

    function operatorParameters(operator) {
      var list = operator.parameterList;
      var rows = (list ? list.get("parameters") : []).map(function (parameter, index) {
        var name = textInput("prop-param-name-" + index, parameter.id, function (value) {
          update(parameter, { id: value.trim() });
        }, { code: true, placeholder: t("parameter_name") });
        var value = textInput("prop-param-value-" + index, parameter.value, function (text) {
          update(parameter, { value: text });
        }, { code: true, placeholder: t("parameter_value") });
        var remove = el("button", { type: "button", class: "btn btn-sm btn-outline-danger", text: "×", title: t("remove") });
        remove.addEventListener("click", function () {
          update(list, { parameters: list.get("parameters").filter(function (p) { return p !== parameter; }) });
          render();
        });
        return el("div", { class: "d-flex gap-1 mb-1 operator-parameter" }, [name, value, remove]);
      });
      var add = el("button", { type: "button", id: "add-parameter", class: "btn btn-sm btn-outline-secondary", text: t("add_parameter") });
      add.addEventListener("click", function () {
        if (!list) {  // the schema wants <parameters> even when empty: made with the first parameter
          list = moddle.create("spiffworkflow:Parameters", { parameters: [] });
          list.$parent = operator;
          update(operator, { parameterList: list });
        }
        var parameter = moddle.create("spiffworkflow:Parameter", { id: "", type: "any", value: "" });
        parameter.$parent = list;
        update(list, { parameters: list.get("parameters").concat([parameter]) });
        render();
      });
      return el("div", { class: "mb-2" }, [el("div", { class: "small", text: t("parameters") }),
                                           el("div", { class: "form-text mt-0", text: t("parameters_help") })]
        .concat(rows).concat([add]));
    }

    function businessRuleTask(bo) {
      return section(t("section_decision"), [
        field(t("decision"), textInput("prop-decision", bodyOf(bo, "spiffworkflow:CalledDecisionId"), function (value) {
          setBody(bo, "spiffworkflow:CalledDecisionId", value.trim());
        }, { code: true, list: "decisions-list" }), t("decision_help")),
        dataList("decisions-list", catalog.decisions || [])
      ]);
    }

    function callActivity(bo) {
      var options = (catalog.processes || []).map(function (p) { return { value: p.key, label: p.name + " (" + p.key + ")" }; });
      return section(t("section_call"), [field(t("called_process"), select("prop-called", options, bo.calledElement, function (value) {
        modeling.updateProperties(current, { calledElement: value || undefined });
      }, t("none")), t("called_help"))]);
    }

    function scripts(bo) {
      return section(t("section_scripts"), [
        codeField("prop-prescript", t("pre_script"), bodyOf(bo, "spiffworkflow:PreScript"), function (value) {
          setBody(bo, "spiffworkflow:PreScript", value);
        }, "exec", { rows: 3 }),
        codeField("prop-postscript", t("post_script"), bodyOf(bo, "spiffworkflow:PostScript"), function (value) {
          setBody(bo, "spiffworkflow:PostScript", value);
        }, "exec", { rows: 3 })
      ]);
    }

    function sequenceFlow(bo) {
      var source = bo.sourceRef;
      if (!is(source, "bpmn:ExclusiveGateway") && !is(source, "bpmn:InclusiveGateway")) { return null; }
      var sourceShape = registry.get(source.id);
      var isDefault = source.default === bo;
      var children = [checkbox("prop-default-flow", t("default_flow"), isDefault, function (checked) {
        modeling.updateProperties(sourceShape, { default: checked ? bo : undefined });
        render();
      })];
      if (!isDefault) {
        children.push(codeField("prop-condition", t("condition"), bo.conditionExpression ? bo.conditionExpression.body : "",
          function (value) {
            modeling.updateProperties(current, { conditionExpression: expression(value.trim()) });
          }, "eval", { rows: 2, help: t("condition_help") }));
      }
      return section(t("section_flow"), children);
    }

    function gateway(bo) {
      if (!is(bo, "bpmn:ExclusiveGateway") && !is(bo, "bpmn:InclusiveGateway")) { return null; }
      var options = bo.get("outgoing").map(function (flow) {
        return { value: flow.id, label: (flow.name ? flow.name + " → " : "→ ") + ((flow.targetRef && flow.targetRef.name) || (flow.targetRef && flow.targetRef.id) || "") };
      });
      return section(t("section_gateway"), [field(t("default_flow"), select("prop-gateway-default", options,
        bo.default ? bo.default.id : "", function (value) {
          var flow = bo.get("outgoing").filter(function (f) { return f.id === value; })[0];
          modeling.updateProperties(current, { default: flow || undefined });
        }, t("none")), t("gateway_help"))]);
    }

    function timer(definition) {
      var kinds = ["timeDuration", "timeDate", "timeCycle"];
      var kind = kinds.filter(function (k) { return definition[k]; })[0] || "timeDuration";
      var body = definition[kind] ? definition[kind].body || "" : "";
      function setTimer(newKind, newBody) {
        var properties = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
        properties[newKind] = expression(newBody);
        update(definition, properties);
      }
      return section(t("section_timer"), [
        field(t("timer_kind"), select("prop-timer-kind", [
          { value: "timeDuration", label: t("timer_duration") }, { value: "timeDate", label: t("timer_date") },
          { value: "timeCycle", label: t("timer_cycle") }], kind, function (value) { setTimer(value, body); render(); })),
        codeField("prop-timer", t("timer_expression"), body, function (value) { setTimer(kind, value.trim()); },
          "eval", { rows: 2, help: t("timer_help") }),
        quickTime("prop-timer-quick", function (unit, n) {
          if (unit === "workdays") { setTimer("timeDate", "add_workdays(" + n + ").isoformat()"); } else {
            setTimer("timeDuration", { days: '"P' + n + 'D"', hours: '"PT' + n + 'H"', minutes: '"PT' + n + 'M"' }[unit]);
          }
          render();
        })
      ]);
    }

    function message(bo, definition) {
      var messages = rootsOfType("bpmn:Message");
      var options = messages.map(function (m) { return { value: m.id, label: (m.name || m.id) }; });
      var chosen = definition.messageRef;
      var children = [field(t("message"), select("prop-message", options, chosen ? chosen.id : "", function (value) {
        var found = messages.filter(function (m) { return m.id === value; })[0];
        update(definition, { messageRef: found || undefined });
        render();
      }, t("none")))];
      var newName = textInput("prop-new-message", "", function () {}, { list: "messages-list", placeholder: t("new_message") });
      var add = el("button", { type: "button", id: "add-message", class: "btn btn-sm btn-outline-secondary", text: t("add") });
      add.addEventListener("click", function () {
        var name = newName.value.trim();
        if (!name) { return; }
        var existing = messages.filter(function (m) { return m.name === name; })[0];
        var created = existing || bpmnFactory.create("bpmn:Message", { name: name });
        if (!existing) {
          created.$parent = definitions();
          update(definitions(), { rootElements: definitions().get("rootElements").concat([created]) });
        }
        update(definition, { messageRef: created });
        render();
      });
      children.push(el("div", { class: "d-flex gap-1 mb-2" }, [newName, add]));
      children.push(dataList("messages-list", catalog.messages || []));
      var catching = !is(bo, "bpmn:ThrowEvent");
      if (catching) {
        children.push(field(t("message_variable"), textInput("prop-message-variable", bodyOf(definition, "spiffworkflow:MessageVariable"),
          function (value) { setBody(definition, "spiffworkflow:MessageVariable", value.trim()); }, { code: true }),
          t("message_variable_help")));
      } else {
        children.push(codeField("prop-message-payload", t("message_payload"), bodyOf(definition, "spiffworkflow:MessagePayload"),
          function (value) { setBody(definition, "spiffworkflow:MessagePayload", value.trim()); }, "eval", { rows: 2 }));
      }
      if (chosen) { children.push(correlation(chosen)); }
      return section(t("section_message"), children);
    }

    function correlation(chosen) {
      var rows = [];
      rootsOfType("bpmn:CorrelationProperty").forEach(function (property) {
        property.get("correlationPropertyRetrievalExpression").forEach(function (retrieval) {
          if (retrieval.messageRef !== chosen) { return; }
          var input = textInput("prop-correlation-" + property.id, retrieval.messagePath ? retrieval.messagePath.body : "",
            function (value) { update(retrieval, { messagePath: expression(value.trim()) }); }, { code: true });
          var remove = el("button", { type: "button", class: "btn btn-sm btn-outline-danger", text: "×", title: t("remove") });
          remove.addEventListener("click", function () {
            var rest = property.get("correlationPropertyRetrievalExpression").filter(function (r) { return r !== retrieval; });
            if (rest.length) { update(property, { correlationPropertyRetrievalExpression: rest }); } else {
              update(definitions(), { rootElements: definitions().get("rootElements").filter(function (r) { return r !== property; }) });
            }
            render();
          });
          rows.push(el("div", { class: "d-flex gap-1 mb-1 align-items-center correlation-row" }, [
            el("code", { class: "small", text: property.id, title: property.name || "" }), input, remove]));
        });
      });
      var key = textInput("prop-correlation-key", "", function () {}, { code: true, placeholder: t("correlation_key") });
      var value = textInput("prop-correlation-expression", "", function () {}, { code: true, placeholder: t("correlation_expression") });
      var add = el("button", { type: "button", id: "add-correlation", class: "btn btn-sm btn-outline-secondary", text: t("add") });
      add.addEventListener("click", function () {
        var name = key.value.trim();
        if (!/^[A-Za-z_][\w.-]*$/.test(name) || !value.value.trim()) { key.classList.add("is-invalid"); return; }
        addCorrelation(chosen, name, value.value.trim());
        render();
      });
      return el("div", { class: "mb-2" }, [el("div", { class: "small", text: t("correlation") }),
        el("div", { class: "form-text mt-0", text: t("correlation_help") })].concat(rows)
        .concat([el("div", { class: "d-flex gap-1" }, [key, value, add])]));
    }

    function addCorrelation(chosen, key, body) {
      var retrieval = moddle.create("bpmn:CorrelationPropertyRetrievalExpression",
                                    { messageRef: chosen, messagePath: expression(body) });
      var property = rootsOfType("bpmn:CorrelationProperty").filter(function (p) { return p.id === key; })[0];
      if (property) {
        retrieval.$parent = property;
        update(property, { correlationPropertyRetrievalExpression: property.get("correlationPropertyRetrievalExpression").concat([retrieval]) });
        return;
      }
      if (registry.get(key) || definitions().get("rootElements").some(function (r) { return r.id === key; })) { return; }
      property = moddle.create("bpmn:CorrelationProperty", { id: key, name: key,
                                                             correlationPropertyRetrievalExpression: [retrieval] });
      retrieval.$parent = property;
      property.$parent = definitions();
      update(definitions(), { rootElements: definitions().get("rootElements").concat([property]) });
    }

    function events(bo) {
      var children = [];
      if (is(bo, "bpmn:BoundaryEvent")) {
        children.push(section(t("section_boundary"), [checkbox("prop-interrupting", t("interrupting"), bo.cancelActivity !== false,
          function (checked) { modeling.updateProperties(current, { cancelActivity: checked }); })]));
      }
      (bo.get("eventDefinitions") || []).forEach(function (definition) {
        if (is(definition, "bpmn:TimerEventDefinition")) { children.push(timer(definition)); }
        if (is(definition, "bpmn:MessageEventDefinition")) { children.push(message(bo, definition)); }
      });
      return children;
    }

    // ---------------------------------------- the panel for the current element

    function sectionsFor(bo) {
      var sections = [];
      if (is(bo, "bpmn:UserTask") || is(bo, "bpmn:ManualTask")) { sections.push(humanTask(bo), dueAndEscalation(bo)); }
      if (is(bo, "bpmn:StartEvent") && !(bo.get("eventDefinitions") || []).length) { sections.push(startEvent(bo)); }
      if (is(bo, "bpmn:ScriptTask")) { sections.push(scriptTask(bo)); }
      if (is(bo, "bpmn:ServiceTask")) { sections.push(serviceTask(bo)); }
      if (is(bo, "bpmn:BusinessRuleTask")) { sections.push(businessRuleTask(bo)); }
      if (is(bo, "bpmn:CallActivity")) { sections.push(callActivity(bo)); }
      if (is(bo, "bpmn:SequenceFlow")) { sections.push(sequenceFlow(bo)); }
      if (is(bo, "bpmn:Gateway")) { sections.push(gateway(bo)); }
      if (is(bo, "bpmn:Event")) { sections = sections.concat(events(bo)); }
      if (is(bo, "bpmn:Activity")) { sections.push(scripts(bo)); }
      return sections.filter(Boolean);
    }

    function render() {
      if (!current) { return; }
      var bo = current.businessObject;
      if (current.type === "label") { current = current.labelTarget; bo = current.businessObject; }
      container.replaceChildren();
      container.setAttribute("data-element-id", bo.id || "");
      container.appendChild(el("h2", { class: "h6 mb-2", id: "properties-title" }, [
        el("span", { class: "badge text-bg-light border me-1", text: (bo.$type || "").replace("bpmn:", "") }),
        el("span", { text: bo.name || bo.id || "" })]));
      general(bo).concat(sectionsFor(bo)).forEach(function (child) { container.appendChild(child); });
    }

    return { show: show };
  }

  // ------------------------------------------------------------------ comparing two versions

  function startCompare(root) {
    var markers = readJson("compare-markers") || {};
    if (typeof window.BpmnJS !== "function") { return; }
    var shown = { old: ["removed", "changed"], new: ["added", "changed"] };
    var viewers = {};
    Object.keys(shown).forEach(function (side) {
      var container = document.getElementById("diagram-" + side);
      if (!container) { return; }
      var viewer = viewers[side] = new window.BpmnJS({ container: container });
      fetchText(container.getAttribute("data-xml-url")).then(function (xml) {
        return viewer.importXML(xml);
      }).then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport", "auto");
        shown[side].forEach(function (kind) {
          (markers[kind] || []).forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "erp-" + kind); } });
        });
        container.setAttribute("data-rendered", "true");
      }).catch(function () {
        container.textContent = root.getAttribute("data-error-text") || "";
      });
    });
    // a change in the list shows its element on both diagrams
    Array.prototype.forEach.call(document.querySelectorAll(".change-row[data-element-id]"), function (row) {
      row.addEventListener("click", function () {
        var id = row.getAttribute("data-element-id");
        Object.keys(viewers).forEach(function (side) {
          var registry = viewers[side].get("elementRegistry");
          var canvas = viewers[side].get("canvas");
          registry.forEach(function (element) { canvas.removeMarker(element, "erp-focus"); });
          if (registry.get(id)) { canvas.addMarker(id, "erp-focus"); canvas.scrollToElement(registry.get(id)); }
        });
      });
    });
  }
})();
