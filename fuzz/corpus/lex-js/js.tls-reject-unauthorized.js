const a = https.request({
  host,
  // ruleid: js.tls-reject-unauthorized
  rejectUnauthorized: false,
});
const b = https.request({
  host,
  // ok: js.tls-reject-unauthorized
  rejectUnauthorized: true,
});
