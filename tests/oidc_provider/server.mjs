// A real OpenID Provider for the relying-party tests and `make demo-oidc`: panva's certified
// oidc-provider with one confidential client, PKCE required, back-channel logout on, and a few
// test users. Listens on 127.0.0.1 only; never use it outside tests and the demo.
//
//   node server.mjs --port 9010 --redirect-uri http://127.0.0.1:8000/oidc/callback \
//     [--backchannel-logout-uri URL] [--post-logout-redirect-uri URL] [--users-json JSON]
//     [--client-jwks-json JSON]   (the client then uses private_key_jwt)
// or the same through OIDC_TEST_PORT, OIDC_TEST_REDIRECT_URI, ... (see `option` below).
// Prints "oidc-provider listening on <issuer>" once it accepts requests.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'backchannel-logout-uri': { type: 'string' },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'users-json': { type: 'string' },
    'client-jwks-json': { type: 'string' },
  },
});

function option(name, envName, fallback) {
  const value = args[name] ?? process.env[envName];
  return value === undefined || value === '' ? fallback : value;
}

const port = Number(option('port', 'OIDC_TEST_PORT', '9010'));
const issuer = `http://127.0.0.1:${port}`;
const asList = (value) => (Array.isArray(value) ? value : String(value).split(','));
const redirectUris = asList(option('redirect-uri', 'OIDC_TEST_REDIRECT_URI', 'http://127.0.0.1:8000/oidc/callback'));
const postLogoutRedirectUris = asList(option('post-logout-redirect-uri', 'OIDC_TEST_POST_LOGOUT_REDIRECT_URI', redirectUris.map((uri) => new URL('/', uri).href).join(',')));
const backchannelLogoutUri = option('backchannel-logout-uri', 'OIDC_TEST_BACKCHANNEL_LOGOUT_URI', undefined);

// Test users: the account id is what a test types into the login form (any password works).
// `account_number` matches seed_demo's customers (dora's: an account of the recorded Kraken
// answers in tests/accounts/sources/fixtures/kraken); `email_verified` is false for mallory so
// the email mapping must refuse her.
const USERS = {
  alice: { email: 'alice@example.com', email_verified: true, account_number: 'A-1001', name: 'Alice Example' },
  bob: { email: 'bob@example.com', email_verified: true, account_number: 'A-1002', name: 'Bob Example' },
  carol: { email: 'carol@example.com', email_verified: true, account_number: 'A-1003', name: 'Carol Example' },
  mallory: { email: 'alice@example.com', email_verified: false, account_number: 'A-9999', name: 'Mallory' },
  nobody: { email: 'nobody@example.com', email_verified: true, account_number: 'A-0000', name: 'No Account' },
  dora: { email: 'dora@example.com', email_verified: true, account_number: 'A-2222BBBB', name: 'Dora Example' },
};

// More users for a test: {"sub": {"email": ..., "email_verified": true, ...}, ...}.
Object.assign(USERS, JSON.parse(option('users-json', 'OIDC_TEST_USERS_JSON', '{}')));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `test-${randomUUID()}`, use: 'sig', alg: 'RS256' };

const client = {
  client_id: option('client-id', 'OIDC_TEST_CLIENT_ID', 'provider-auth-test'),
  client_secret: option('client-secret', 'OIDC_TEST_CLIENT_SECRET', 'test-client-secret-not-for-production'),
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: redirectUris,
  post_logout_redirect_uris: postLogoutRedirectUris,
  id_token_signed_response_alg: 'RS256',
};
// The client's public keys given: it authenticates with private_key_jwt instead of its secret.
const clientJwks = option('client-jwks-json', 'OIDC_TEST_CLIENT_JWKS_JSON', undefined);
if (clientJwks) {
  delete client.client_secret;
  client.token_endpoint_auth_method = 'private_key_jwt';
  client.token_endpoint_auth_signing_alg = 'RS256';
  client.jwks = JSON.parse(clientJwks);
}
if (backchannelLogoutUri) {
  client.backchannel_logout_uri = backchannelLogoutUri;
  client.backchannel_logout_session_required = true;
}

const configuration = {
  clients: [client],
  jwks: { keys: [signingKey] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    account: ['account_number'],
  },
  scopes: ['openid', 'email', 'profile', 'account'],
  // The relying party reads its claims from the ID token (no userinfo round trip).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, sub) {
    const user = USERS[sub];
    if (!user) return undefined;
    return { accountId: sub, async claims() { return { sub, ...user }; } };
  },
  // First-party test client: no consent screen, the grant covers what was asked for.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'account_number']);
    await grant.save();
    return grant;
  },
  // Its SSRF guard refuses loopback targets, but here the relying party (back-channel logout
  // URI) is a test server on 127.0.0.1: let loopback through, and nothing else.
  fetch(url, options) {
    const { hostname } = new URL(url);
    if (hostname === '127.0.0.1' || hostname === 'localhost') {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    }
    return globalThis.fetch(url, options);
  },
  ttl: { Session: 3600, Grant: 3600, Interaction: 600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300 },
  cookies: { keys: [randomUUID()] },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html lang="en"><head><title>Error</title></head><body><main><h1>${out.error}</h1></main></body></html>`;
  },
};

const provider = new Provider(issuer, configuration);
provider.on('backchannel.error', (ctx, error, client, accountId, sid) => {
  const cause = error.cause ? ` (${error.cause.code || error.cause.message})` : '';
  console.error(`back-channel logout to ${client.clientId} failed for ${accountId}/${sid}: ${error.message}${cause}`);
});
provider.on('backchannel.success', (ctx, client, accountId, sid) => {
  console.log(`back-channel logout sent to ${client.clientId} for ${accountId}/${sid}`);
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
