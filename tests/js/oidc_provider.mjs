// A real OpenID Connect provider on loopback (the certified `oidc-provider` package), for the tests of
// signing in with the organisation's account. It prints "ready" once it listens.
//
// Usage: node tests/js/oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Its login form takes any name (no password check): the name is the account. "naam@example.org" has that
// address, verified; "onbevestigd:naam@example.org" has it unverified. Two names make the ID token go
// wrong on its way to the client, as an attacker or a broken provider would:
// "andere-client:naam@example.org" gets a well-signed token for another audience (with `azp` naming the client,
// so that only a check of `aud` itself refuses it), and
// "vervalst:naam@example.org" a token signed by a key that is not the provider's. "opnieuw-getekend:..." gets
// its token signed again, unchanged, by the provider's key: the tests' control that re-signing alone spoils nothing.
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader } from "jose";
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: "provider-key", use: "sig", alg: "RS256" };
const forger = (await generateKeyPair("RS256", { extractable: true })).privateKey;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
    grant_types: ["authorization_code"], response_types: ["code"],
  }],
  jwks: { keys: [signing] },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  scopes: ["openid", "email"],
  async findAccount(ctx, id) {
    const [mark, email] = id.includes(":") ? id.split(":", 2) : ["", id];
    return {
      accountId: id,
      async claims() { return { sub: id, email, email_verified: mark !== "onbevestigd" }; },
    };
  },
  // No consent screen: every scope the client asks for is granted.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email");
    grant.addOIDCClaims(["email", "email_verified"]);
    await grant.save();
    return grant;
  },
});

async function resign(token, changes, key) {
  const claims = { ...decodeJwt(token), ...changes };
  return new SignJWT(claims).setProtectedHeader(decodeProtectedHeader(token)).sign(key);
}

provider.use(async (ctx, next) => {
  await next();
  const token = ctx.path === "/token" && ctx.body && ctx.body.id_token;
  if (!token) return;
  const { sub } = decodeJwt(token);
  if (sub.startsWith("andere-client:")) ctx.body.id_token = await resign(token, { aud: "andere-client", azp: clientId }, privateKey);
  if (sub.startsWith("vervalst:")) ctx.body.id_token = await resign(token, {}, forger);
  if (sub.startsWith("opnieuw-getekend:")) ctx.body.id_token = await resign(token, {}, privateKey);
});

provider.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
