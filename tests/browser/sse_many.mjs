// Opens the sse_clock page, then 10 EventSources to the same origin, and counts how many
// receive an event. Over HTTPS the page must be on HTTP/2 and all 10 must receive; over
// cleartext HTTP/1.1 Chromium opens at most 6 connections per origin, so at most 6 can
// (the 7th waits for a free connection, forever with event streams).
// Usage: node sse_many.mjs BASE_URL all|capped [SCREENSHOT_PATH]
import { launch, screenshot } from "./launch.mjs";

const STREAMS = 10;
const HTTP1_CONNECTIONS_PER_ORIGIN = 6;
const [base, mode, shot = "target/browser/sse_many.png"] = process.argv.slice(2);
if (!base || !["all", "capped"].includes(mode)) {
  console.error("usage: node sse_many.mjs BASE_URL all|capped [SCREENSHOT_PATH]");
  process.exit(2);
}

const context = await launch({ ignoreCertificateErrors: base.startsWith("https:") });
let failure = null;
try {
  const page = await context.newPage();
  await page.goto(base, { waitUntil: "domcontentloaded" });
  const protocol = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
  await page.evaluate((count) => {
    window.received = new Array(count).fill(0);
    window.sources = [];
    for (let i = 0; i < count; i++) {
      // Distinct URLs, so that nothing in the browser may merge or queue them as one.
      const source = new EventSource(`/events?stream=${i}`);
      source.onmessage = () => (window.received[i] += 1);
      window.sources.push(source);
    }
  }, STREAMS);
  // The clock ticks every second and sends its first event on connect: 4 s is ample for
  // every connected stream to receive, and long enough to show that the others wait.
  const deadline = Date.now() + (mode === "all" ? 10000 : 4000);
  let counts = [];
  while (Date.now() < deadline) {
    counts = await page.evaluate(() => window.received);
    if (mode === "all" && counts.every((n) => n > 0)) break;
    await page.waitForTimeout(100);
  }
  await screenshot(page, shot);
  const receiving = counts.filter((n) => n > 0).length;
  console.log(`${base}: page over ${protocol}; ${receiving}/${STREAMS} event streams received (events per stream: ${counts.join(" ")})`);
  if (mode === "all") {
    if (protocol !== "h2") failure = `expected the page over h2, got ${protocol}`;
    else if (receiving !== STREAMS) failure = `expected all ${STREAMS} streams to receive over HTTP/2, got ${receiving}`;
  } else {
    if (protocol !== "http/1.1") failure = `expected the page over http/1.1, got ${protocol}`;
    else if (receiving > HTTP1_CONNECTIONS_PER_ORIGIN)
      failure = `expected at most ${HTTP1_CONNECTIONS_PER_ORIGIN} streams to receive over HTTP/1.1, got ${receiving}`;
    else if (receiving === 0) failure = "no stream received anything: the page is broken";
  }
  await page.evaluate(() => window.sources.forEach((source) => source.close()));
} catch (error) {
  failure = String(error);
} finally {
  await context.close();
}
if (failure) {
  console.error(failure);
  process.exit(1);
}
