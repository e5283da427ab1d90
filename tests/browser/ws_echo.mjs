// Opens the ws_echo page, waits for its WebSocket to connect, sends a message through the
// text box, and checks that the echo appears in the page's log within five seconds.
// Usage: node ws_echo.mjs BASE_URL [SCREENSHOT_PATH]
import { launch, screenshot } from "./launch.mjs";

const [base, shot = "target/browser/ws_echo.png"] = process.argv.slice(2);
if (!base) {
  console.error("usage: node ws_echo.mjs BASE_URL [SCREENSHOT_PATH]");
  process.exit(2);
}

const context = await launch({ ignoreCertificateErrors: base.startsWith("https:") });
let failure = null;
try {
  const page = await context.newPage();
  await page.goto(base, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "connected", null, {
    timeout: 5000,
  });
  const message = `hello from chromium ${Date.now()}`;
  await page.fill("#message", message);
  await page.press("#message", "Enter");
  await page.waitForFunction(
    (expected) => [...document.querySelectorAll("#log li")].some((item) => item.textContent === expected),
    message,
    { timeout: 5000 },
  );
  const echoes = await page.$$eval("#log li", (items) => items.map((item) => item.textContent));
  await screenshot(page, shot);
  console.log(`echoed: ${JSON.stringify(echoes)}; screenshot at ${shot}`);
  if (echoes.length !== 1 || echoes[0] !== message) failure = `expected exactly ${JSON.stringify(message)}`;
} catch (error) {
  failure = String(error);
} finally {
  await context.close();
}
if (failure) {
  console.error(failure);
  process.exit(1);
}
