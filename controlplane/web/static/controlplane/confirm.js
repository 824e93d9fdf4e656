// A form with data-confirm="question" asks before it submits. A static file, not an onsubmit
// attribute: the Content Security Policy runs no inline script.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
