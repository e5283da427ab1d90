// Opens the page of tests/browser.rs's one-connection app: an EventSource and a WebSocket
// to the same origin; the WebSocket sends a 2 KiB message (compressible, so deflate has
// something to do) and the page shows the echo's length and tail, the event stream its
// latest event. Succeeds once both have arrived.
// Over HTTPS, CERT_PEM is the server's self-signed certificate, which Chromium is told to
// trust (by its key's hash), so that it handles the connection as it would a real one.
// Usage: node one_connection.mjs BASE_URL SCREENSHOT_PATH [CERT_PEM]
import { X509Certificate, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { launch, screenshot } from "./launch.mjs";

const [base, shot = "target/browser/one_connection.png", certPem] = process.argv.slice(2);
if (!base) {
  console.error("usage: node one_connection.mjs BASE_URL SCREENSHOT_PATH [CERT_PEM]");
  process.exit(2);
}
const trustedSpki = certPem
  ? [
      createHash("sha256")
        .update(new X509Certificate(readFileSync(certPem)).publicKey.export({ type: "spki", format: "der" }))
        .digest("base64"),
    ]
  : [];

const context = await launch({ trustedSpki });
let failure = null;
try {
  const page = await context.newPage();
  await page.goto(base, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(
    () =>
      document.getElementById("ws")?.textContent === "2005:hello" &&
      document.getElementById("sse")?.textContent.startsWith("event "),
    null,
    { timeout: 10000 },
  );
  const shown = await page.evaluate(() => ({
    ws: document.getElementById("ws").textContent,
    sse: document.getElementById("sse").textContent,
    protocol: performance.getEntriesByType("navigation")[0]?.nextHopProtocol,
  }));
  await screenshot(page, shot);
  console.log(`page: ${JSON.stringify(shown)}; screenshot at ${shot}`);
} catch (error) {
  failure = String(error);
} finally {
  await context.close();
}
if (failure) {
  console.error(failure);
  process.exit(1);
}
