function show(el, user) {
  // ruleid: js.inner-html
  el.innerHTML = "<b>" + user.name + "</b>";
  // ruleid: js.inner-html
  document.getElementById("out").innerHTML = `<p>${user.bio}</p>`;
  // ok: js.inner-html
  el.innerHTML = "<hr>";
  // ok: js.inner-html
  el.textContent = user.name;
}
