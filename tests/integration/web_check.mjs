// Drives Debian's Chromium through playwright-core against kvision web and checks what a
// viewer sees: a card per camera, boxes drawn on its frame (pixels in the person colour),
// the person count changing, the health bar, an alert, and the large view with its history.
// Usage: node web_check.mjs URL SCREENSHOT_DIR
import { createRequire } from "node:module";
const require = createRequire(process.env.KV_NODE_MODULES + "/");
const { chromium } = require("playwright-core");

const [url, shots] = process.argv.slice(2);
const fail = (msg) => { console.error("web_check: " + msg); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  const problems = [];
  const external = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text()); });
  // A frame image may be gone by the time it is asked for (only the newest are kept): the page
  // then waits for the next; anything else missing is a fault.
  page.on("response", (r) => {
    // A clip is asked for until it is written (404 until then).
    if (r.status() >= 400 && !/\/api\/cameras\/[^/]+\/frames\//.test(r.url()) &&
        !(r.status() === 404 && /\/clips\//.test(r.url()))) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on("request", (r) => { if (!r.url().startsWith(url)) external.push(r.url()); });
  await page.goto(url);

  const card = page.locator('article.card[data-camera="lobby"]');
  await card.waitFor({ timeout: 30000 });
  // Both cameras get a card, in name order.
  await page.locator('article.card[data-camera="gate"]').waitFor({ timeout: 30000 });
  const all = await page.locator("article.card").evaluateAll((cards) => cards.map((c) => c.dataset.camera));
  const cameras = all.filter((c) => c !== "yard");  // yard has a card once its health arrives
  if (cameras.join() !== "gate,lobby" || all.join() !== [...all].sort().join()) fail(`cards: ${all}`);
  const canvas = 'article.card[data-camera="lobby"] canvas';
  await page.waitForFunction((sel) => +document.querySelector(sel).dataset.boxes > 0, canvas,
                             { timeout: 30000 });
  // Boxes are on the pixels: count those in the person colour (#00ff66), which the scene lacks.
  const boxPixels = await page.evaluate((sel) => {
    const c = document.querySelector(sel);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 16 && d[i + 1] > 240 && Math.abs(d[i + 2] - 102) < 16) n++;
    return n;
  }, canvas);
  if (boxPixels < 200) fail(`only ${boxPixels} pixels in the person colour: no boxes drawn`);

  // The person count follows the scene: sample it for 8 s.
  const samples = [];
  for (let i = 0; i < 16; i++) {
    samples.push(await page.evaluate((sel) => {
      const c = document.querySelector(sel);
      const chip = document.querySelector('article.card[data-camera="lobby"] .chip[data-label="person"]');
      return { seq: +c.dataset.seq, persons: +c.dataset.persons, chip: chip ? chip.textContent : "" };
    }, canvas));
    await page.waitForTimeout(500);
  }
  const counts = new Set(samples.map((s) => s.persons));
  const seqs = samples.map((s) => s.seq);
  if (seqs[seqs.length - 1] <= seqs[0]) fail(`the frame did not advance: ${seqs}`);
  if (counts.size < 2) fail(`the person count never changed: ${[...counts]}`);
  const last = samples[samples.length - 1];
  if (last.chip !== `person ${last.persons}`) fail(`the chip says '${last.chip}', the frame ${last.persons}`);

  // Tracked objects: ID labels and the trails of their recent paths.
  await page.waitForFunction((sel) => +document.querySelector(sel).dataset.trails > 0, canvas,
                             { timeout: 15000 });
  const tracked = await page.evaluate((sel) => {
    const c = document.querySelector(sel);
    return { tracks: +c.dataset.tracks, trails: +c.dataset.trails, boxes: +c.dataset.boxes };
  }, canvas);
  if (tracked.tracks < 1 || tracked.trails < 1) fail(`no tracks drawn: ${JSON.stringify(tracked)}`);

  await page.locator('.group[data-group="kvision-detect"]').waitFor({ timeout: 15000 });
  const health = await page.locator("#health").innerText();
  // The camera that cannot be reached is marked DOWN on its card, with the reason.
  const yard = page.locator('article.card[data-camera="yard"][data-health="DOWN"]');
  await yard.waitFor({ timeout: 30000 });
  const yardState = await yard.locator(".state").getAttribute("title");
  if (!/^DOWN: cannot open it after 2 attempt/.test(yardState)) fail(`yard's state: ${yardState}`);
  const lobbyHealth = await card.getAttribute("data-health");
  if (lobbyHealth !== null) fail(`lobby, run by its own ingest without --cameras, has a health: ${lobbyHealth}`);
  await page.locator('#alerts li[data-rule]').first().waitFor({ timeout: 30000 });
  const alerts = await page.locator("#alerts li[data-rule]").count();
  // The alert's clip: written once 2 s after the alert have passed, then loaded and played.
  const video = '#alerts li[data-rule="lower-person"] video.clip';
  await page.locator(video).first().waitFor({ timeout: 30000 });
  await page.waitForFunction((sel) => document.querySelector(sel).readyState >= 2, video,
                             { timeout: 45000 });
  const clip = await page.evaluate(async (sel) => {
    const v = document.querySelector(sel);
    const duration = v.duration;
    await v.play();
    await new Promise((r) => setTimeout(r, 1200));
    return { file: v.dataset.clip, duration, played: v.currentTime, width: v.videoWidth,
             error: v.error ? v.error.message : null };
  }, video);
  if (clip.error || !(clip.duration > 0) || clip.played <= 0.5 || clip.width !== 768)
    fail(`the alert's clip did not play: ${JSON.stringify(clip)}`);
  await page.screenshot({ path: `${shots}/web-live.png` });

  await card.click();
  await page.locator("#large").waitFor({ state: "visible" });
  await page.waitForFunction(() => document.querySelectorAll("#history tbody tr").length >= 5,
                             null, { timeout: 15000 });
  await page.waitForFunction(() => +document.getElementById("large-canvas").dataset.boxes > 0,
                             null, { timeout: 15000 });
  const rows = await page.locator("#history tbody tr").count();
  await page.screenshot({ path: `${shots}/web-camera.png` });
  await page.keyboard.press("Escape");
  if (!(await page.locator("#large").isHidden())) fail("Escape did not close the large view");

  if (external.length) fail(`requests outside kvision: ${external}`);
  if (problems.length) fail(`page errors: ${problems}`);
  console.log(JSON.stringify({ cameras, boxPixels, personCounts: [...counts], frames: [seqs[0], seqs[seqs.length - 1]],
                               tracked, health: health.replace(/\s+/g, " "), yard: yardState, alerts, clip, historyRows: rows }));
} finally {
  await browser.close();
}
