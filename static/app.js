// Small enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("foutmeldingen");
  if (summary) { summary.focus(); }

  // Show "Omschrijf uw rol" only when "Anders" is chosen.
  var other = document.querySelector(".role-other");
  var radios = document.querySelectorAll("input[name=role]");
  if (other && radios.length) {
    var update = function () {
      var chosen = document.querySelector("input[name=role]:checked");
      var show = chosen && chosen.value === "Anders";
      var hasError = other.classList.contains("has-error");
      other.classList.toggle("is-hidden", !show && !hasError);
    };
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  // Ask for the board's name only when the organisation is a school.
  var board = document.querySelector(".board-name");
  var kind = document.querySelector("select[name=organisation_type]");
  if (board && kind) {
    var showBoard = function () {
      var hasError = board.classList.contains("has-error");
      board.classList.toggle("is-hidden", kind.value !== "School" && !hasError);
    };
    kind.addEventListener("change", showBoard);
    showBoard();
  }

  setUpSupportForm(document.getElementById("aanvraag"));
});

// The support request form: show fields only where they apply, and add or
// remove school rows in place. Without JavaScript the same buttons post the
// form and the server adds or removes the row.
function setUpSupportForm(form) {
  if (!form) { return; }
  var schools = document.getElementById("scholen");

  function showIf(element, show) {
    if (element && !element.classList.contains("has-error")) {
      element.classList.toggle("is-hidden", !show);
    }
  }

  function checked(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : "";
  }

  function update() {
    showIf(form.querySelector(".board-name"), checked("kind") === "board");
    schools.querySelectorAll(".school").forEach(function (row, position) {
      var prefix = row.querySelector("input[name$='-name']").name.replace(/name$/, "");
      var reason = checked(prefix + "reason");
      showIf(row.querySelector(".judgement-date"), reason === "onvoldoende" || reason === "zeer_zwak");
      showIf(row.querySelector(".risk-description"), reason === "risico");
      row.querySelector("legend").textContent = "School " + (position + 1);
      var remove = row.querySelector(".remove-school");
      if (!remove) {
        remove = document.createElement("button");
        remove.type = "submit";
        remove.name = "verwijder_school";
        remove.className = "link-button remove-school";
        row.appendChild(remove);
      }
      remove.value = String(position);
      remove.textContent = "School " + (position + 1) + " verwijderen";
      remove.hidden = schools.querySelectorAll(".school").length < 2;
    });
  }

  function nextIndex() {
    var highest = -1;
    schools.querySelectorAll("input[name^='schools-'][name$='-name']").forEach(function (input) {
      highest = Math.max(highest, parseInt(input.name.split("-")[1], 10));
    });
    return highest + 1;
  }

  function blankCopy(row, index) {
    var copy = row.cloneNode(true);
    var pattern = /schools-\d+-/g;
    var replacement = "schools-" + index + "-";
    copy.id = "school-" + index;
    copy.querySelectorAll("[id],[name],[for],[aria-describedby],[href]").forEach(function (element) {
      ["id", "name", "for", "aria-describedby"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) { element.setAttribute(attribute, value.replace(pattern, replacement)); }
      });
    });
    copy.querySelectorAll(".field-error").forEach(function (error) { error.remove(); });
    copy.querySelectorAll(".has-error").forEach(function (field) { field.classList.remove("has-error"); });
    copy.querySelectorAll("input, textarea").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      if (input.type === "radio" || input.type === "checkbox") { input.checked = false; } else { input.value = ""; }
    });
    return copy;
  }

  form.addEventListener("change", update);
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    var rows = schools.querySelectorAll(".school");
    if (button.id === "school-toevoegen" && rows.length < 20) {
      event.preventDefault();
      var copy = blankCopy(rows[rows.length - 1], nextIndex());
      schools.appendChild(copy);
      var board = form.querySelector("input[name=kind][value=board]");
      if (board) { board.checked = true; }
      update();
      copy.querySelector("input[type=text]").focus();
    } else if (button.classList.contains("remove-school") && rows.length > 1) {
      event.preventDefault();
      var row = button.closest(".school");
      var neighbour = row.previousElementSibling || row.nextElementSibling;
      row.remove();
      update();
      neighbour.querySelector("input[type=text]").focus();
    }
  });
  update();
}
