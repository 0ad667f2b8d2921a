// ruleid: js.document-write
document.write("<p>" + location.hash + "</p>");
// ok: js.document-write
document.write("<p>static</p>");
