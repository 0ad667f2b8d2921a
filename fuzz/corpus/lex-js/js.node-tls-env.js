// ruleid: js.node-tls-env
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
// ok: js.node-tls-env
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "1";
