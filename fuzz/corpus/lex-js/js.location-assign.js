const params = new URLSearchParams(location.search);
// ruleid: js.location-assign
location.href = params.get("url");
// ok: js.location-assign
location.href = "/login";
