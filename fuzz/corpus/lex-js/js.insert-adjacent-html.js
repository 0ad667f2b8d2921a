// ruleid: js.insert-adjacent-html
list.insertAdjacentHTML("beforeend", item.html);
// ok: js.insert-adjacent-html
list.insertAdjacentText("beforeend", item.text);
