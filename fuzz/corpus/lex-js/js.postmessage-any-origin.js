// ruleid: js.postmessage-any-origin
parent.postMessage(token, "*");
// ok: js.postmessage-any-origin
parent.postMessage(token, "https://app.example.com");
