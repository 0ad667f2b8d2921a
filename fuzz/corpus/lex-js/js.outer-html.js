function swap(el, html) {
  // ruleid: js.outer-html
  el.outerHTML = html;
  // ok: js.outer-html
  el.outerHTML = "<span></span>";
}
