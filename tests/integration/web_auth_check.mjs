// Drives Debian's Chromium through playwright-core against kvision web with users, over HTTPS:
// logged out, the page goes to /login and its API is refused; a wrong password is refused; the
// right one opens the live view with its frames; logging out ends another tab's event stream.
// Usage: node web_auth_check.mjs URL PASSWORD
import { createRequire } from "node:module";
const require = createRequire(process.env.KV_NODE_MODULES + "/");
const { chromium } = require("playwright-core");

const [url, password] = process.argv.slice(2);
const fail = (msg) => { console.error("web_auth_check: " + msg); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  // The certificate is self-signed for the test; trusting it is the context's business.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 820 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));

  // Logged out: to the login page; the API answers 401 even from the page's own origin.
  await page.goto(url + "/");
  if (!page.url().endsWith("/login")) fail(`logged out, / went to ${page.url()}`);
  const refused = await page.evaluate(async () => {
    const out = {};
    for (const p of ["/api/cameras", "/api/events", "/api/me", "/app.js"]) out[p] = (await fetch(p)).status;
    return out;
  });
  if (Object.values(refused).some((s) => s !== 401)) fail(`logged out: ${JSON.stringify(refused)}`);

  // A wrong password: the login page again, with the message.
  await page.fill('input[name="user"]', "ana");
  await page.fill('input[name="password"]', "not the password");
  await page.click('button[type="submit"]');
  await page.locator("form.login .error").waitFor({ timeout: 10000 });
  const error = await page.locator("form.login .error").innerText();
  if (!/Wrong user name or password/.test(error)) fail(`after a wrong password: ${error}`);

  // The right one: the live view, with frames and boxes, and the session cookie as it must be.
  await page.fill('input[name="user"]', "ana");
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
  await page.waitForURL(url + "/", { timeout: 10000 });
  const canvas = 'article.card[data-camera="lobby"] canvas';
  await page.waitForFunction((sel) => document.querySelector(sel) && +document.querySelector(sel).dataset.boxes > 0,
                             canvas, { timeout: 45000 });
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "kv_session");
  if (!session || !session.httpOnly || !session.secure || session.sameSite !== "Strict")
    fail(`session cookie: ${JSON.stringify(session)}`);
  const script = await page.evaluate(() => document.cookie);
  if (script.includes("kv_session")) fail("the session cookie is readable by scripts");
  await page.locator("#logout").waitFor({ state: "visible", timeout: 10000 });

  // A second tab of the same session counts the frames its event stream brings.
  const second = await context.newPage();
  await second.goto(url + "/");
  await second.waitForFunction((sel) => document.querySelector(sel) && +document.querySelector(sel).dataset.seq > 0,
                               canvas, { timeout: 30000 });
  const seqBefore = await second.evaluate((sel) => +document.querySelector(sel).dataset.seq, canvas);

  // Log out in the first tab: back to /login, and the session no longer opens anything.
  await page.click("#logout button");
  await page.waitForURL(url + "/login", { timeout: 10000 });
  const after = await page.evaluate(async () => (await fetch("/api/cameras")).status);
  if (after !== 401) fail(`after logout /api/cameras gave ${after}`);
  // The second tab's stream was ended by the server; the page finds out and goes to /login.
  await second.waitForURL(url + "/login", { timeout: 15000 });
  if (problems.length) fail(`page errors: ${problems}`);
  console.log(JSON.stringify({ refused, wrongPassword: error, cookie: { httpOnly: session.httpOnly, secure: session.secure, sameSite: session.sameSite },
                               secondTab: { framesSeenBefore: seqBefore, after: second.url() } }));
} finally {
  await browser.close();
}
