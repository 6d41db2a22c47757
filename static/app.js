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
});
