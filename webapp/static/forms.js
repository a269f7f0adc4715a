// Editable tables (add row / remove row) and file uploads for the forms of webapp/forms_render.py.
// Without this file the forms still work: existing rows plus one empty row, a "remove" checkbox per row,
// and files sent with the form itself.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function enableRemove(row) {
    var box = row.querySelector(".row-delete");
    var button = row.querySelector(".remove-row");
    if (!box || !button) { return; }
    box.hidden = true;
    button.hidden = false;
    button.addEventListener("click", function () { row.parentNode.removeChild(row); });
  }

  function setUpTable(table) {
    var field = table.closest(".form-table-field");
    var template = field.querySelector("template.form-table-template");
    var add = field.querySelector(".add-row");
    table.querySelectorAll("tbody tr.form-table-row").forEach(enableRemove);
    if (!template || !add) { return; }
    add.hidden = false;
    add.addEventListener("click", function () {
      // Indexes only need to be unique: the server reads rows in index order and skips gaps.
      var index = parseInt(table.getAttribute("data-next-index"), 10) || 0;
      table.setAttribute("data-next-index", String(index + 1));
      var html = template.innerHTML.split("__index__").join(String(index));
      var body = table.querySelector("tbody");
      body.insertAdjacentHTML("beforeend", html);
      var row = body.lastElementChild;
      enableRemove(row);
      setUpFiles(row);
      var first = row.querySelector("input, select, textarea");
      if (first) { first.focus(); }
    });
  }

  function addReference(container, name, ref, multiple) {
    var list = container.querySelector(".file-list");
    if (!multiple) { list.innerHTML = ""; }
    var item = document.createElement("li");
    item.className = "file-ref";
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = name + "-ref";
    hidden.value = JSON.stringify(ref);
    var link = document.createElement("a");
    link.href = "/files/" + ref.id;
    link.textContent = ref.name;
    item.appendChild(hidden);
    item.appendChild(link);
    list.appendChild(item);
  }

  // Upload a chosen file at once (POST /files) and keep only its reference in the form.
  function setUpFile(container) {
    var input = container.querySelector('input[type="file"]');
    if (!input || !window.fetch || !window.FormData) { return; }
    var multiple = container.getAttribute("data-multiple") === "true";
    input.addEventListener("change", function () {
      var name = input.name;
      Array.prototype.forEach.call(input.files, function (file) {
        var body = new FormData();
        body.append("file", file);
        input.disabled = true;
        fetch("/files", {method: "POST", body: body, credentials: "same-origin",
                         headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}})
          .then(function (response) {
            return response.json().then(function (json) { return {ok: response.ok, json: json}; });
          })
          .then(function (result) {
            input.disabled = false;
            if (!result.ok) {
              window.alert((result.json.error && result.json.error.message) || "upload failed");
              return;
            }
            addReference(container, name, result.json, multiple);
            input.value = "";
          })
          .catch(function () { input.disabled = false; });
      });
    });
  }

  function setUpFiles(root) { root.querySelectorAll(".file-field").forEach(setUpFile); }

  document.querySelectorAll("table.form-table").forEach(setUpTable);
  setUpFiles(document);
})();
