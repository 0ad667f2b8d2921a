// ruleid: js.string-timer
setTimeout("refresh(" + id + ")", 1000);
// ok: js.string-timer
setTimeout(() => refresh(id), 1000);
