// Sign-in: Cognito's hosted UI with the authorization code grant + PKCE on AWS; locally the development login
// (POST /local/dev-token, answered by tools/local_server.py only, never by the deployed stack).
import { session } from "./api.js";

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function cognitoSignIn(config) {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("ac.pkce", JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({
    response_type: "code", client_id: config.client_id, redirect_uri: config.redirect_uri,
    scope: "openid email profile", state, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(`https://${config.cognito_domain}/oauth2/authorize?${q}`);
}

// Back from the hosted UI with ?code=&state=: exchange the code (with the verifier) for tokens. The API's JWT
// authorizer takes the ID token (it carries custom:role, custom:account_id, custom:partner_id).
export async function completeCognitoSignIn(config) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return false;
  const saved = JSON.parse(sessionStorage.getItem("ac.pkce") || "{}");
  sessionStorage.removeItem("ac.pkce");
  history.replaceState(null, "", location.pathname + location.hash);
  if (!saved.verifier || saved.state !== params.get("state")) throw new Error("sign-in state mismatch");
  const r = await fetch(`https://${config.cognito_domain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: config.client_id, code,
      redirect_uri: config.redirect_uri, code_verifier: saved.verifier,
    }),
  });
  if (!r.ok) throw new Error(`sign-in failed (${r.status})`);
  session.save((await r.json()).id_token);
  return true;
}

export function cognitoSignOutUrl(config) {
  const q = new URLSearchParams({ client_id: config.client_id, logout_uri: config.redirect_uri });
  return `https://${config.cognito_domain}/logout?${q}`;
}

export async function devSignIn(role, accountId, partnerId) {
  const body = { role };
  if (accountId) body.account_id = accountId;
  if (partnerId) body.partner_id = partnerId;
  const r = await fetch("/local/dev-token", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) throw Object.assign(new Error(data.detail || "sign-in failed"), { field: data.field });
  session.save(data.token);
}
